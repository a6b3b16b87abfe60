package store

import "github.com/hookline/hookline/model"

// InsertAttempt stores an attempt as it is, number included, bypassing
// RecordAttempts.
func InsertAttempt(s *Store, a *model.DeliveryAttempt) error { return s.db.Create(a).Error }
