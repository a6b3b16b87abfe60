package outbound

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/model"
)

// NewRequest renders ev in w's format, signs it per Standard Webhooks with
// the secrets valid at at, and addresses it to w with w's tokens and
// headers.
func NewRequest(ev *model.Event, w *model.Webhook, at time.Time, userAgent string) (Request, error) {
	body, contentType, err := Render(w.Format, Envelope{ID: ev.ID, Type: ev.Type, Timestamp: ev.CreatedAt, Data: json.RawMessage(ev.Payload)})
	if err != nil {
		return Request{}, fmt.Errorf("render %s payload: %w", w.Format, err)
	}
	var keys [][]byte
	for _, s := range w.SigningSecrets(at) {
		key, err := model.ParseSecret(s)
		if err != nil {
			return Request{}, fmt.Errorf("signing secret: %w", err)
		}
		keys = append(keys, key)
	}
	h := make(http.Header, 8+len(w.Headers))
	h.Set("Content-Type", contentType)
	h.Set("User-Agent", userAgent)
	h.Set("webhook-id", ev.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", Sign(keys, ev.ID, at, body))
	if w.BearerToken != "" {
		h.Set("Authorization", "Bearer "+w.BearerToken)
	}
	if w.SharedToken != "" {
		h.Set(model.SharedTokenHeader, w.SharedToken)
	}
	var secret map[string]bool
	for _, c := range w.Headers {
		h.Set(c.Name, c.Value)
		if c.Secret {
			if secret == nil {
				secret = make(map[string]bool)
			}
			secret[strings.ToLower(c.Name)] = true
		}
	}
	return Request{URL: w.URL, Body: body, Header: h, secret: secret}, nil
}

// Redacted replaces a header value in attempt records.
const Redacted = "[redacted]"

// RedactedHeaders is HeaderList of the request's headers with the
// signature, the tokens, the credential headers (model.CredentialHeader)
// and the webhook's secret headers redacted, as attempt records keep them.
func (r Request) RedactedHeaders() []model.Header {
	out := HeaderList(r.Header)
	for i := range out {
		name := strings.ToLower(out[i].Name)
		if name == "webhook-signature" || model.CredentialHeader(name) || r.secret[name] {
			out[i].Value = Redacted
		}
	}
	return out
}

// HeaderList flattens h into name/value pairs in a stable order.
func HeaderList(h http.Header) []model.Header {
	out := make([]model.Header, 0, len(h))
	for name, values := range h {
		for _, v := range values {
			out = append(out, model.Header{Name: name, Value: strings.ToValidUTF8(v, "\uFFFD")})
		}
	}
	slices.SortStableFunc(out, func(a, b model.Header) int { return strings.Compare(a.Name, b.Name) })
	return out
}
