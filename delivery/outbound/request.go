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
	for _, c := range w.Headers {
		h.Set(c.Name, c.Value)
	}
	return Request{URL: w.URL, Body: body, Header: h}, nil
}

// sensitiveHeaders are redacted in attempt records.
var sensitiveHeaders = map[string]bool{
	"webhook-signature": true, "authorization": true, model.SharedTokenHeader: true,
}

// RedactedHeaders is HeaderList with the signature and tokens redacted, as
// attempt records keep a request's headers.
func RedactedHeaders(h http.Header) []model.Header {
	out := HeaderList(h)
	for i := range out {
		if sensitiveHeaders[strings.ToLower(out[i].Name)] {
			out[i].Value = "[redacted]"
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
