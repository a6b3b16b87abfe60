package resolver

import (
	"slices"

	"github.com/hookline/hookline/model"
)

// newWebhook builds a webhook from create input, filling in defaults and a
// generated secret, and validates it.
func newWebhook(owner string, in model.CreateWebhookInput) (*model.Webhook, error) {
	w := &model.Webhook{
		ID:      model.NewID(model.PrefixWebhook),
		Owner:   owner,
		URL:     in.URL,
		Events:  dedupe(in.Events),
		Filters: in.Filters,
		Format:  model.PayloadFormatJSON,
		Enabled: true,
		Headers: headers(in.Headers),
		Secret:  model.NewSecret(),
		Health:  model.HealthStatusUnknown,
	}
	if w.Filters.IsNull() {
		w.Filters = nil
	}
	setIf(&w.Description, in.Description)
	setIf(&w.Format, in.Format)
	setIf(&w.Enabled, in.Enabled)
	setIf(&w.Secret, in.Secret)
	setIf(&w.BearerToken, in.BearerToken)
	setIf(&w.SharedToken, in.SharedToken)
	if err := w.Validate(); err != nil {
		return nil, err
	}
	return w, nil
}

// applyUpdate changes the fields present in the input and validates the result.
func applyUpdate(w *model.Webhook, in model.UpdateWebhookInput) error {
	setIf(&w.URL, in.URL)
	setIf(&w.Description, in.Description)
	if in.Events != nil {
		w.Events = dedupe(in.Events)
	}
	if f, ok := in.Filters.ValueOK(); ok { // an explicit null clears the filters
		w.Filters = nil
		if !f.IsNull() {
			w.Filters = f
		}
	}
	setIf(&w.Format, in.Format)
	setIf(&w.Enabled, in.Enabled)
	if in.Headers != nil {
		w.Headers = headers(in.Headers)
	}
	setIf(&w.BearerToken, in.BearerToken)
	setIf(&w.SharedToken, in.SharedToken)
	return w.Validate()
}

// removeEvents drops event types from w; dropping the last one is an error.
func removeEvents(w *model.Webhook, events []string) error {
	kept := slices.DeleteFunc(slices.Clone(w.Events), func(e string) bool { return slices.Contains(events, e) })
	if len(kept) == 0 {
		return model.InvalidField("events", "would remove every event type; delete the webhook or subscribe to another type first")
	}
	w.Events = kept
	return nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func headers(in []*model.Header) []model.Header {
	out := make([]model.Header, 0, len(in))
	for _, h := range in {
		out = append(out, *h)
	}
	return out
}

// dedupe drops repeated names, keeping the first occurrence's order.
func dedupe(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
