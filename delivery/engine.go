// Package delivery sends events to webhooks: it matches published events to
// webhooks, claims due deliveries from the database in batches, POSTs them
// signed per Standard Webhooks, records every attempt and schedules retries.
package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/model"
)

// Store is the persistence the engine needs; *store.Store implements it.
type Store interface {
	PublishEvent(ctx context.Context, ev *model.Event, match func(*model.Webhook) bool) (*model.Event, []*model.Delivery, bool, error)
	ClaimDeliveries(ctx context.Context, n int, lease time.Duration, exclude []string) ([]*model.Delivery, error)
	ReleaseDeliveries(ctx context.Context, deliveries []*model.Delivery) error
	EventsByID(ctx context.Context, ids []string) (map[string]*model.Event, error)
	WebhooksByID(ctx context.Context, ids []string) (map[string]*model.Webhook, error)
	RecordAttempt(ctx context.Context, d *model.Delivery, rec model.AttemptRecord) (*model.Delivery, *model.Webhook, error)
	CancelDelivery(ctx context.Context, d *model.Delivery) error
	CreatePing(ctx context.Context, ev *model.Event, d *model.Delivery) error
	Webhook(ctx context.Context, owner, id string) (*model.Webhook, error)
}

// Observer is told about every recorded attempt; *metrics.Metrics
// implements it.
type Observer interface {
	ObserveAttempt(rec model.AttemptRecord, health model.HealthStatus)
}

type noObserver struct{}

func (noObserver) ObserveAttempt(model.AttemptRecord, model.HealthStatus) {}

// Config tunes the engine. Zero values take the defaults of DefaultConfig.
type Config struct {
	Workers               int
	MaxInflightPerWebhook int
	Timeout               time.Duration
	Schedule              []time.Duration
	DisableAfter          time.Duration
	AllowPrivateTargets   bool
	// Lease is how long a claimed delivery stays with its worker; if the
	// process dies, the delivery is sent again once the lease runs out.
	// Zero means twice the timeout plus 30 seconds.
	Lease time.Duration
	// PollInterval is how often the engine looks for work it was not told
	// about: deliveries published by other processes, expired leases.
	PollInterval time.Duration
	UserAgent    string
	// Observer, when set, is told about every recorded attempt.
	Observer Observer
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		Workers:               32,
		MaxInflightPerWebhook: 10,
		Timeout:               15 * time.Second,
		Schedule:              DefaultSchedule,
		DisableAfter:          5 * 24 * time.Hour,
		PollInterval:          time.Second,
		UserAgent:             "Hookline/dev",
	}
}

// PingEventType is the type of the event pingWebhook sends.
const PingEventType = "webhook.ping"

// claimBatch is the most deliveries claimed by one query.
const claimBatch = 100

// Engine publishes events and delivers them. Publish and Ping may be called
// concurrently with Run.
type Engine struct {
	store   Store
	broker  Broker
	cfg     Config
	log     *slog.Logger
	client  *http.Client
	backoff Backoff
	lease   time.Duration

	wake chan struct{} // capacity 1: a claim round is wanted

	mu       sync.Mutex
	inflight map[string]int // claimed, unfinished deliveries per webhook
	claimed  int
}

// New returns an engine that reports every change to broker; call Run to
// start delivering.
func New(st Store, broker Broker, cfg Config, log *slog.Logger) *Engine {
	def := DefaultConfig()
	if cfg.Workers <= 0 {
		cfg.Workers = def.Workers
	}
	if cfg.MaxInflightPerWebhook <= 0 {
		cfg.MaxInflightPerWebhook = def.MaxInflightPerWebhook
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = def.Timeout
	}
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = def.Schedule
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = def.PollInterval
	}
	if cfg.Lease <= 0 {
		// A claimed delivery waits at most for the workers ahead of it; a
		// lease well beyond one timeout keeps live work from being re-sent.
		cfg.Lease = 2*cfg.Timeout + 30*time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = def.UserAgent
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	return &Engine{
		store:    st,
		broker:   broker,
		cfg:      cfg,
		log:      log,
		client:   NewClient(ClientOptions{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivateTargets, MaxConnsPerHost: cfg.Workers}),
		backoff:  Backoff{Schedule: cfg.Schedule, Jitter: 0.2},
		lease:    cfg.Lease,
		wake:     make(chan struct{}, 1),
		inflight: make(map[string]int),
	}
}

// Publish validates and stores an event with a delivery for each matching
// webhook of owner, in one transaction, then wakes the workers.
func (e *Engine) Publish(ctx context.Context, owner string, in model.PublishEventInput) (*model.Event, error) {
	if err := model.ValidateEventType("type", in.Type); err != nil {
		return nil, err
	}
	if strings.Contains(in.Type, model.WildcardEvent) {
		return nil, model.InvalidField("type", "must not contain %q: it is the wildcard of subscriptions", model.WildcardEvent)
	}
	payload, err := model.DecodePayload(in.Payload)
	if _, isObject := payload.(map[string]any); err != nil || !isObject {
		return nil, model.InvalidField("payload", "must be a JSON object")
	}
	ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: owner, Type: in.Type, Payload: in.Payload, RequestID: model.RequestID(ctx)}
	if k := in.IdempotencyKey; k != nil {
		if *k == "" || len(*k) > 255 || !utf8.ValidString(*k) {
			return nil, model.InvalidField("idempotencyKey", "must be 1 to 255 bytes of UTF-8")
		}
		ev.IdempotencyKey, ev.DedupKey = k, k
	}
	ev, deliveries, _, err := e.store.PublishEvent(ctx, ev, func(w *model.Webhook) bool {
		f, err := model.CompileFilters(w.Filters)
		if err != nil {
			e.log.ErrorContext(ctx, "stored filters do not compile", "webhook", w.ID, "err", err)
			return false
		}
		return f.Match(payload)
	})
	if err != nil {
		return nil, err
	}
	if len(deliveries) > 0 {
		e.kick()
	}
	for _, d := range deliveries {
		e.Notify(ctx, Message{Owner: owner, Delivery: d})
	}
	return ev, nil
}

// Notify reports a change to subscribers. It never fails the operation
// that made the change: a broker error is logged.
func (e *Engine) Notify(ctx context.Context, msg Message) {
	if err := e.broker.Publish(ctx, msg); err != nil {
		e.log.WarnContext(ctx, "notify subscribers", "err", err)
	}
}

// notifyAttempt reports a recorded attempt, the delivery if its status
// changed, and the webhook if its health or enablement changed.
func (e *Engine) notifyAttempt(ctx context.Context, before job, rec model.AttemptRecord, d *model.Delivery, w *model.Webhook) {
	var health model.HealthStatus
	if w != nil {
		health = w.Health
	}
	e.cfg.Observer.ObserveAttempt(rec, health)
	e.log.DebugContext(ctx, "delivery attempt", "request_id", rec.Attempt.RequestID, "delivery", rec.Attempt.DeliveryID, "webhook", rec.Attempt.WebhookID,
		"event", rec.Attempt.EventID, "attempt", rec.Attempt.AttemptNumber, "outcome", rec.Attempt.Outcome,
		"status_code", rec.Attempt.StatusCode, "duration_ms", rec.Attempt.DurationMs, "next", rec.Status)
	e.Notify(ctx, Message{Owner: rec.Attempt.Owner, Attempt: rec.Attempt})
	if d != nil && d.Status != before.delivery.Status {
		e.Notify(ctx, Message{Owner: d.Owner, Delivery: d})
	}
	if w != nil && (w.Health != before.webhook.Health || w.Enabled != before.webhook.Enabled) {
		e.Notify(ctx, Message{Owner: w.Owner, Webhook: w})
	}
}

// Wake tells the engine that deliveries are due now, e.g. after a redelivery.
func (e *Engine) Wake() { e.kick() }

// kick asks for a claim round without blocking.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// job is a claimed delivery with what it takes to send it.
type job struct {
	delivery *model.Delivery
	event    *model.Event
	webhook  *model.Webhook // nil when deleted
}

// Run delivers until ctx ends. Then it stops claiming, lets the attempts in
// flight finish (each bounded by the timeout) and record, releases claimed
// deliveries it has not started, and returns.
func (e *Engine) Run(ctx context.Context) error {
	jobs := make(chan job, 2*e.cfg.Workers)
	var workers sync.WaitGroup
	for range e.cfg.Workers {
		workers.Go(func() {
			for j := range jobs {
				if ctx.Err() != nil {
					e.release(j)
					continue
				}
				e.deliver(j)
			}
		})
	}
	defer workers.Wait()
	defer close(jobs)

	poll := time.NewTicker(e.cfg.PollInterval)
	defer poll.Stop()
	var failures int
	for {
		full, err := e.claimRound(ctx, jobs)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures++
			delay := min(time.Duration(failures)*e.cfg.PollInterval, 30*time.Second)
			e.log.ErrorContext(ctx, "claim deliveries", "err", err, "retry_in", delay)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(delay):
			}
			continue
		case full:
			failures = 0
			continue // more may be due right now
		}
		failures = 0
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-poll.C:
		}
	}
}

// claimRound claims as many due deliveries as there is room for and hands
// them to the workers. full reports that it claimed a whole batch, so more
// may be waiting.
func (e *Engine) claimRound(ctx context.Context, jobs chan<- job) (full bool, err error) {
	room, saturated := e.room()
	if room <= 0 {
		return false, nil
	}
	n := min(room, claimBatch)
	ds, err := e.store.ClaimDeliveries(ctx, n, e.lease, saturated)
	if err != nil || len(ds) == 0 {
		return false, err
	}
	ready, excess := e.admit(ds)
	if len(excess) > 0 {
		if err := e.store.ReleaseDeliveries(context.WithoutCancel(ctx), excess); err != nil {
			e.log.ErrorContext(ctx, "release excess deliveries", "err", err)
		}
	}
	batch, err := e.load(ctx, ready)
	if err != nil {
		e.finishAll(ready)
		return false, err
	}
	for _, j := range batch {
		jobs <- j // never blocks: room() keeps claims within the channel's capacity
	}
	return len(ds) == n && len(excess) == 0, nil
}

// room returns how many more deliveries may be claimed and the webhooks at
// their in-flight cap.
func (e *Engine) room() (int, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var saturated []string
	for id, n := range e.inflight {
		if n >= e.cfg.MaxInflightPerWebhook {
			saturated = append(saturated, id)
		}
	}
	return 2*e.cfg.Workers - e.claimed, saturated
}

// admit counts claimed deliveries against their webhooks' caps and returns
// those that fit and those that must go back to the queue.
func (e *Engine) admit(ds []*model.Delivery) (ready, excess []*model.Delivery) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range ds {
		if e.inflight[d.WebhookID] >= e.cfg.MaxInflightPerWebhook {
			excess = append(excess, d)
			continue
		}
		e.inflight[d.WebhookID]++
		e.claimed++
		ready = append(ready, d)
	}
	return ready, excess
}

// finish releases a delivery's slot and asks for another claim round.
func (e *Engine) finish(d *model.Delivery) {
	e.mu.Lock()
	e.claimed--
	if e.inflight[d.WebhookID]--; e.inflight[d.WebhookID] <= 0 {
		delete(e.inflight, d.WebhookID)
	}
	e.mu.Unlock()
	e.kick()
}

func (e *Engine) finishAll(ds []*model.Delivery) {
	for _, d := range ds {
		e.finish(d)
	}
}

// load fetches the events and webhooks of claimed deliveries.
func (e *Engine) load(ctx context.Context, ds []*model.Delivery) ([]job, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	eventIDs := make([]string, 0, len(ds))
	webhookIDs := make([]string, 0, len(ds))
	for _, d := range ds {
		eventIDs = append(eventIDs, d.EventID)
		webhookIDs = append(webhookIDs, d.WebhookID)
	}
	events, err := e.store.EventsByID(ctx, eventIDs)
	if err != nil {
		return nil, err
	}
	hooks, err := e.store.WebhooksByID(ctx, webhookIDs)
	if err != nil {
		return nil, err
	}
	jobs := make([]job, 0, len(ds))
	for _, d := range ds {
		jobs = append(jobs, job{delivery: d, event: events[d.EventID], webhook: hooks[d.WebhookID]})
	}
	return jobs, nil
}

// release returns an unstarted job to the queue.
func (e *Engine) release(j job) {
	defer e.finish(j.delivery)
	if err := e.store.ReleaseDeliveries(context.Background(), []*model.Delivery{j.delivery}); err != nil {
		e.log.Error("release delivery", "delivery", j.delivery.ID, "err", err)
	}
}

// deliver makes one attempt of a claimed delivery and records it. It uses
// its own context so that shutdown lets the attempt finish and be recorded.
func (e *Engine) deliver(j job) {
	defer e.finish(j.delivery)
	ctx := context.Background()
	if j.webhook == nil || !j.webhook.Enabled || j.event == nil {
		if err := e.store.CancelDelivery(ctx, j.delivery); err != nil {
			e.log.Error("cancel delivery", "delivery", j.delivery.ID, "err", err)
			return
		}
		cancelled := *j.delivery
		cancelled.Status, cancelled.NextAttemptAt = model.DeliveryStatusCancelled, nil
		e.Notify(ctx, Message{Owner: cancelled.Owner, Delivery: &cancelled})
		return
	}
	rec := e.attempt(ctx, j, false)
	d, w, err := e.record(ctx, j.delivery, rec)
	if err != nil {
		// The lease runs out and the delivery is tried again: at least once.
		e.log.Error("record attempt", "delivery", j.delivery.ID, "err", err)
		return
	}
	e.notifyAttempt(ctx, j, rec, d, w)
	if rec.NextAttemptAt != nil {
		time.AfterFunc(time.Until(*rec.NextAttemptAt), e.kick)
	}
}

// recordRetries bounds how long a worker keeps trying to record an attempt
// through a database outage; after that the lease brings the delivery back.
const recordRetries = 5 * time.Second

// record stores an attempt, retrying with backoff for a short outage, so
// that a delivery already made is not sent again when the database returns.
func (e *Engine) record(ctx context.Context, d *model.Delivery, rec model.AttemptRecord) (*model.Delivery, *model.Webhook, error) {
	deadline := time.Now().Add(recordRetries)
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		updated, w, err := e.store.RecordAttempt(ctx, d, rec)
		if err == nil || time.Now().Add(wait).After(deadline) {
			return updated, w, err
		}
		e.log.Warn("record attempt, retrying", "delivery", d.ID, "retry_in", wait, "err", err)
		time.Sleep(wait)
	}
}

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
	rec := model.AttemptRecord{Attempt: att, DisableAfter: e.cfg.DisableAfter}

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

// Ping sends a webhook.ping event to the owner's webhook now, records the
// attempt like any other (a failed ping is not retried) and returns the answer.
func (e *Engine) Ping(ctx context.Context, owner, webhookID string) (*model.PingResult, error) {
	w, err := e.store.Webhook(ctx, owner, webhookID)
	if err != nil {
		return nil, err
	}
	payload, _ := json.Marshal(map[string]string{"webhookId": w.ID})
	ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: owner, Type: PingEventType, Payload: payload, RequestID: model.RequestID(ctx)}
	d := &model.Delivery{ID: model.NewID(model.PrefixDelivery), Owner: owner, EventID: ev.ID, WebhookID: w.ID, Status: model.DeliveryStatusPending}
	if err := e.store.CreatePing(ctx, ev, d); err != nil {
		return nil, err
	}
	j := job{delivery: d, event: ev, webhook: w}
	rec := e.attempt(ctx, j, true)
	ctx = context.WithoutCancel(ctx)
	recorded, updated, err := e.store.RecordAttempt(ctx, d, rec)
	if err != nil {
		return nil, err
	}
	e.notifyAttempt(ctx, j, rec, recorded, updated)
	res := &model.PingResult{WebhookID: w.ID, Health: w.Health, StatusCode: rec.Attempt.StatusCode, DurationMs: rec.Attempt.DurationMs, Error: rec.Attempt.Error}
	if updated != nil {
		res.Health = updated.Health
	}
	return res, nil
}

func sortHeaders(hs []model.Header) {
	slices.SortStableFunc(hs, func(a, b model.Header) int { return strings.Compare(a.Name, b.Name) })
}
