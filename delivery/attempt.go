package delivery

import (
	"context"
	"strings"
	"time"

	"github.com/hookline/hookline/backoff"
	"github.com/hookline/hookline/delivery/outbound"
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

	req, err := outbound.NewRequest(ev, w, started, e.cfg.UserAgent)
	var res outbound.Response
	if err != nil {
		res = outbound.Response{Err: err}
	} else {
		att.RequestHeaders = req.RedactedHeaders()
		att.RequestBody = string(req.Body)
		attemptCtx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		res = outbound.Send(attemptCtx, e.client, req)
		cancel()
	}
	att.DurationMs = int(res.Duration.Milliseconds())
	if res.Err == nil {
		code := res.StatusCode
		att.StatusCode = &code
		att.ResponseHeaders = outbound.HeaderList(res.Header)
		att.ResponseBody = strings.ToValidUTF8(string(res.Body), "\uFFFD")
	}

	schedule := e.schedule
	if ping {
		schedule = backoff.Schedule{}
	}
	dec := decide(res, att.AttemptNumber, schedule, time.Now())
	att.Outcome, att.NextRetryAt = dec.outcome, dec.next
	if dec.failure != "" {
		att.Error = &dec.failure
	}
	return model.AttemptRecord{Delivery: d, Attempt: att, Status: dec.status, NextAttemptAt: dec.next,
		DisableReason: dec.disable, DisableAfter: e.cfg.DisableAfter}
}
