package model

// Swept counts the rows a sweep deleted, by kind: what retention and the
// removal of owners take away.
type Swept struct {
	Events     int
	Deliveries int
	Attempts   int
}

// Add returns the sum of s and o.
func (s Swept) Add(o Swept) Swept {
	return Swept{Events: s.Events + o.Events, Deliveries: s.Deliveries + o.Deliveries, Attempts: s.Attempts + o.Attempts}
}

// Total is the number of rows deleted.
func (s Swept) Total() int { return s.Events + s.Deliveries + s.Attempts }
