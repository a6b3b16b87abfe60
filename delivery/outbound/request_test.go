package outbound

import (
	"testing"
	"time"

	"github.com/hookline/hookline/model"
)

// TestRequest_RedactedHeaders checks that an attempt record keeps every
// header of the request, with the values of the signature, the tokens, the
// credential headers and the secret headers replaced by Redacted.
func TestRequest_RedactedHeaders(t *testing.T) {
	w := &model.Webhook{
		URL: "https://receiver.example/hook", Format: model.PayloadFormatJSON, Secret: model.NewSecret(), SharedToken: "shared-value",
		Headers: []model.Header{
			{Name: "X-Api-Key", Value: "api-key-value", Secret: true},
			{Name: "Authorization", Value: "Basic dTpw"}, // a credential header, even unmarked
			{Name: "cookie", Value: "session=1"},
			{Name: "X-Team", Value: "blue"},
		},
	}
	ev := &model.Event{ID: "evt_1", Type: "order.paid", Payload: model.JSON(`{}`), CreatedAt: time.Now()}
	req, err := NewRequest(ev, w, time.Now(), "Hookline/test")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"X-Api-Key": "api-key-value", "Authorization": "Basic dTpw", "Cookie": "session=1", "X-Team": "blue"} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("request header %s = %q; want %q", name, got, want)
		}
	}

	got := map[string]string{}
	for _, h := range req.RedactedHeaders() {
		got[h.Name] = h.Value
	}
	for name, want := range map[string]string{
		"X-Api-Key": Redacted, "Authorization": Redacted, "Cookie": Redacted, "X-Webhook-Shared-Token": Redacted,
		"Webhook-Signature": Redacted, "X-Team": "blue", "Webhook-Id": "evt_1",
	} {
		if got[name] != want {
			t.Errorf("redacted header %s = %q; want %q", name, got[name], want)
		}
	}
	if len(got) != len(req.Header) {
		t.Errorf("redacted headers = %v; want all %d of the request's", got, len(req.Header))
	}
}
