package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/model"
)

// attempt POSTs the delivery once and decides what comes next. A ping is
// never retried.
func (e *Engine) attempt(ctx context.Context, j job, ping bool) model.AttemptRecord {
	d, ev, w := j.delivery, j.event, j.webhook
	started := time.Now().UTC()
	att := &model.DeliveryAttempt{
		ID: model.NewID(model.PrefixAttempt), Owner: d.Owner, DeliveryID: d.ID, WebhookID: w.ID,
		EventID: ev.ID, EventType: ev.Type, AttemptNumber: d.AttemptCount + 1, StartedAt: started, RequestID: ev.RequestID,
		RequestHeaders: []model.Header{}, ResponseHeaders: []model.Header{},
	}
	rec := model.AttemptRecord{Delivery: d, Attempt: att, DisableAfter: e.cfg.DisableAfter}

	req, err := e.request(ev, w, started)
	var res Result
	if err != nil {
		res = Result{Err: err}
	} else {
		att.RequestHeaders = redactedHeaders(req.Header)
		att.RequestBody = string(req.Body)
		attemptCtx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		res = Do(attemptCtx, e.client, req)
		cancel()
	}
	att.DurationMs = int(res.Duration.Milliseconds())
	if res.Err == nil {
		code := res.StatusCode
		att.StatusCode = &code
		att.ResponseHeaders = headerList(res.ResponseHeader)
		att.ResponseBody = strings.ToValidUTF8(string(res.ResponseBody), "\uFFFD")
	}

	switch {
	case res.Err == nil && res.StatusCode >= 200 && res.StatusCode < 300:
		att.Outcome, rec.Status = model.AttemptOutcomeSuccess, model.DeliveryStatusSucceeded
		return rec
	case res.Err != nil:
		msg := res.Err.Error()
		att.Error = &msg
	case res.StatusCode >= 300 && res.StatusCode < 400:
		msg := fmt.Sprintf("receiver answered %d %s; redirects are not followed", res.StatusCode, http.StatusText(res.StatusCode))
		att.Error = &msg
	default:
		msg := fmt.Sprintf("receiver answered %d %s", res.StatusCode, http.StatusText(res.StatusCode))
		att.Error = &msg
	}
	att.Outcome = model.AttemptOutcomeFailure
	if res.Err == nil && res.StatusCode == http.StatusGone {
		rec.Status = model.DeliveryStatusDead
		rec.DisableReason = "disabled automatically: the receiver answered 410 Gone"
		return rec
	}
	delay, ok := e.backoff.Next(att.AttemptNumber)
	if !ok || ping {
		rec.Status = model.DeliveryStatusDead
		return rec
	}
	if res.Err == nil && (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) {
		if after, ok := RetryAfter(res.ResponseHeader.Get("Retry-After"), time.Now(), e.maxStep()); ok {
			delay = after
		}
	}
	next := time.Now().Add(delay).UTC()
	rec.Status, rec.NextAttemptAt = model.DeliveryStatusRetrying, &next
	att.NextRetryAt = &next
	return rec
}

func (e *Engine) maxStep() time.Duration {
	var m time.Duration
	for _, s := range e.cfg.Schedule {
		m = max(m, s)
	}
	return m
}

// request renders, signs and addresses one attempt.
func (e *Engine) request(ev *model.Event, w *model.Webhook, at time.Time) (Request, error) {
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
	h.Set("User-Agent", e.cfg.UserAgent)
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

func redactedHeaders(h http.Header) []model.Header {
	out := headerList(h)
	for i := range out {
		if sensitiveHeaders[strings.ToLower(out[i].Name)] {
			out[i].Value = "[redacted]"
		}
	}
	return out
}

// headerList flattens h into name/value pairs in a stable order.
func headerList(h http.Header) []model.Header {
	out := make([]model.Header, 0, len(h))
	for name, values := range h {
		for _, v := range values {
			out = append(out, model.Header{Name: name, Value: strings.ToValidUTF8(v, "\uFFFD")})
		}
	}
	sortHeaders(out)
	return out
}

func sortHeaders(hs []model.Header) {
	slices.SortStableFunc(hs, func(a, b model.Header) int { return strings.Compare(a.Name, b.Name) })
}
