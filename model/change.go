package model

// Change is one change that subscribers see: an attempt recorded, or a
// delivery or webhook as it now is. Exactly one of Attempt, Delivery and
// Webhook is set. The store yields a Change for every write it commits, and
// the feed carries them to the subscribers of Owner.
type Change struct {
	Owner    string           `json:"owner"`
	Attempt  *DeliveryAttempt `json:"attempt,omitempty"`
	Delivery *Delivery        `json:"delivery,omitempty"`
	Webhook  *Webhook         `json:"webhook,omitempty"`
}

// DeliveryChanged is the change of a delivery as it now is.
func DeliveryChanged(d *Delivery) Change { return Change{Owner: d.Owner, Delivery: d} }

// WebhookChanged is the change of a webhook as it now is.
func WebhookChanged(w *Webhook) Change { return Change{Owner: w.Owner, Webhook: w} }

// AttemptRecorded is the change of an attempt stored.
func AttemptRecorded(a *DeliveryAttempt) Change { return Change{Owner: a.Owner, Attempt: a} }
