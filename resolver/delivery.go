package resolver

import "github.com/hookline/hookline/model"

// deliveryFilter copies an optional filter so that a parent object's ID can
// be set on it.
func deliveryFilter(f *model.DeliveryFilter) model.DeliveryFilter {
	if f == nil {
		return model.DeliveryFilter{}
	}
	return *f
}
