// Package delivery is the engine that gets events to webhooks. It publishes
// (validates an event and stores it with a delivery per matching webhook,
// many publishes to one commit), claims due deliveries in batches under a
// lease, attempts each through outbound, records the attempts (many to one
// commit) and decides what comes next with the retry rule in decide. It
// reaches the database only through its Store interface; what subscribers
// see of its work comes from the store's change feed.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/backoff"
	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/model"
)

// Store is the persistence the engine needs; *store.Store implements it.
type Store interface {
	PublishEvent(ctx context.Context, ev *model.Event, match func(*model.Webhook) bool, take func(*model.Delivery, *model.Webhook)) (*model.Event, []*model.Delivery, error)
	PublishEvents(ctx context.Context, evs []*model.Event, match func(*model.Event, *model.Webhook) bool, take func(*model.Event, *model.Delivery, *model.Webhook)) ([]*model.Event, [][]*model.Delivery, error)
	ClaimDeliveries(ctx context.Context, n int, lease time.Duration, exclude []string) ([]*model.Delivery, error)
	ReleaseDeliveries(ctx context.Context, deliveries []*model.Delivery) error
	EventsByID(ctx context.Context, ids []string) (map[string]*model.Event, error)
	WebhooksByID(ctx context.Context, ids []string) (map[string]*model.Webhook, error)
	RecordAttempts(ctx context.Context, batch []model.AttemptRecord) (*model.Recorded, error)
	CancelDelivery(ctx context.Context, d *model.Delivery) error
	CreatePing(ctx context.Context, ev *model.Event, d *model.Delivery) error
	Webhook(ctx context.Context, owner, id string) (*model.Webhook, error)
	Redeliver(ctx context.Context, owner, id string) (*model.Delivery, error)
	ReplayFailed(ctx context.Context, owner, webhookID string, since time.Time) (int, error)
	Broadcast(ctx context.Context, by string, dedupKey *string, proto *model.Event, match func(*model.Webhook) bool) (*model.BroadcastResult, error)
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
	store    Store
	cfg      Config
	log      *slog.Logger
	client   *http.Client
	schedule backoff.Schedule
	lease    time.Duration

	wake chan struct{} // capacity 1: a claim round is wanted

	mu          sync.Mutex
	running     bool
	jobs        chan job                 // to the workers
	queues      map[string]*webhookQueue // held deliveries per webhook
	held        int                      // deliveries held in all queues
	reserved    int                      // room promised to publishes in progress
	reservedFor map[string]int
	pubMu       sync.Mutex
	pubQueue    []*publication
	pubLeader   bool

	// backlog says that due work may be waiting in the database beyond what
	// the process holds, so a freed slot should trigger a claim round.
	backlog atomic.Bool
}

// New returns an engine on st; call Run to start delivering.
func New(st Store, cfg Config, log *slog.Logger) *Engine {
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
		store:       st,
		cfg:         cfg,
		log:         log,
		client:      outbound.NewClient(outbound.ClientOptions{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivateTargets, MaxConnsPerHost: cfg.Workers}),
		schedule:    backoff.Schedule{Steps: cfg.Schedule, Jitter: 0.2},
		lease:       cfg.Lease,
		wake:        make(chan struct{}, 1),
		queues:      make(map[string]*webhookQueue),
		reservedFor: make(map[string]int),
	}
}

// MaxPublishBatch is the most events one publishEvents call takes.
const MaxPublishBatch = 100

// Publish validates and stores an event with a delivery for each matching
// webhook of owner, in one transaction, then hands the deliveries to the
// workers. Concurrent calls without an idempotency key share transactions.
// An idempotency key used within model.IdempotencyWindow answers the event
// that holds it, if it has the same type and payload, and CONFLICT if not.
func (e *Engine) Publish(ctx context.Context, owner string, in model.PublishEventInput) (*model.Event, error) {
	p, err := e.prepare(ctx, owner, in)
	if err != nil {
		return nil, err
	}
	if p.event.DedupKey != nil {
		e.publishIdempotent(ctx, p)
	} else {
		e.publishBatched(ctx, p)
	}
	return e.complete(ctx, p)
}

// PublishMany publishes up to MaxPublishBatch events in one transaction,
// all of them or, on any error, none, and returns them in order. An input
// whose idempotency key was used before, or by an earlier input, answers
// the event that holds the key, as Publish does; a key reused for another
// type or payload is CONFLICT and the whole batch is refused. A refused
// input comes back as an *InputError that says which.
func (e *Engine) PublishMany(ctx context.Context, owner string, ins []*model.PublishEventInput) ([]*model.Event, error) {
	if len(ins) == 0 || len(ins) > MaxPublishBatch {
		return nil, model.Errorf(model.CodeBadUserInput, "must hold 1 to %d events", MaxPublishBatch)
	}
	pubs := make([]*publication, len(ins))
	for i, in := range ins {
		p, err := e.prepare(ctx, owner, *in)
		if err != nil {
			return nil, &InputError{Index: i, Err: err}
		}
		pubs[i] = p
	}
	e.writeAll(ctx, pubs)
	events := make([]*model.Event, len(pubs))
	for i, p := range pubs {
		ev, err := e.complete(ctx, p)
		if err != nil {
			return nil, err
		}
		events[i] = ev
	}
	return events, nil
}

// Broadcast publishes the event to every owner with an enabled webhook its
// type and filters match, one event each, in one transaction; by is the
// owner of the admin key broadcasting, whose idempotency key it is (reused,
// it answers the first result, or CONFLICT for another type or payload).
func (e *Engine) Broadcast(ctx context.Context, by string, in model.PublishEventInput) (*model.BroadcastResult, error) {
	p, err := e.prepare(ctx, by, in)
	if err != nil {
		return nil, err
	}
	proto := *p.event
	proto.IdempotencyKey, proto.DedupKey = nil, nil
	res, err := e.store.Broadcast(ctx, by, in.IdempotencyKey, &proto, func(w *model.Webhook) bool { return e.match(p, w) })
	if err != nil {
		return nil, err
	}
	if res.DeliveryCount > 0 {
		e.Wake()
	}
	return res, nil
}

// InputError is an input of PublishMany that was refused; Err says why.
type InputError struct {
	Index int
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("input %d: %v", e.Index, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// publication is one event on its way into the database.
type publication struct {
	event   *model.Event
	payload any // decoded, for the filters
	taken   []job
	token   string
	until   time.Time

	deliveries []*model.Delivery
	err        error
	done       chan struct{}
}

// prepare validates an input and builds its publication.
func (e *Engine) prepare(ctx context.Context, owner string, in model.PublishEventInput) (*publication, error) {
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
	return &publication{event: ev, payload: payload, token: model.NewLeaseToken(), until: time.Now().UTC().Add(e.lease), done: make(chan struct{})}, nil
}

// match reports whether a webhook's filters accept the publication's payload.
func (e *Engine) match(p *publication, w *model.Webhook) bool {
	f, err := model.CompileFilters(w.Filters)
	if err != nil {
		e.log.Error("stored filters do not compile", "webhook", w.ID, "err", err)
		return false
	}
	return f.Match(p.payload)
}

// take leases a delivery being stored to this process, if there is room,
// so that it goes straight to a worker after the commit, without a claim.
func (e *Engine) take(p *publication, d *model.Delivery, w *model.Webhook) {
	if e.reserve(w.ID) {
		d.LeaseToken, d.NextAttemptAt = p.token, &p.until
		p.taken = append(p.taken, job{delivery: d, webhook: w})
	}
}

// unreserveAll gives back the room taken for a publication's deliveries.
func (e *Engine) unreserveAll(p *publication) {
	for _, j := range p.taken {
		e.unreserve(j.webhook.ID)
	}
}

func (e *Engine) publishIdempotent(ctx context.Context, p *publication) {
	ev, deliveries, err := e.store.PublishEvent(ctx, p.event,
		func(w *model.Webhook) bool { return e.match(p, w) },
		func(d *model.Delivery, w *model.Webhook) { e.take(p, d, w) })
	if err == nil {
		p.event = ev // the first event, when the key was used before
	}
	p.deliveries, p.err = deliveries, err
}

// complete hands a stored publication's leased deliveries to the workers.
// The store has told subscribers of them already, so they hear of a
// delivery's creation before a worker can report its next status.
func (e *Engine) complete(ctx context.Context, p *publication) (*model.Event, error) {
	e.unreserveAll(p)
	if p.err != nil {
		return nil, p.err
	}
	var refused []*model.Delivery
	for _, j := range p.taken {
		j.event = p.event
		if !e.hold(j) {
			refused = append(refused, j.delivery)
		}
	}
	if len(refused) > 0 {
		if err := e.store.ReleaseDeliveries(context.WithoutCancel(ctx), refused); err != nil {
			e.log.ErrorContext(ctx, "release deliveries", "err", err)
		}
	}
	if len(p.deliveries) > len(p.taken) {
		e.backlog.Store(true)
		e.Wake()
	}
	return p.event, nil
}

// publishBatched stores a publication together with the others being
// published at the same moment, in one transaction (group commit). The
// first caller to find no batch in progress writes batches until none is
// waiting; the others wait for their result.
func (e *Engine) publishBatched(ctx context.Context, p *publication) {
	e.pubMu.Lock()
	e.pubQueue = append(e.pubQueue, p)
	if e.pubLeader {
		e.pubMu.Unlock()
		<-p.done // the leader does not give up on a batch it started
		return
	}
	e.pubLeader = true
	for len(e.pubQueue) > 0 {
		batch := e.pubQueue
		e.pubQueue = nil
		e.pubMu.Unlock()
		e.writePublications(ctx, batch)
		e.pubMu.Lock()
	}
	e.pubLeader = false
	e.pubMu.Unlock()
}

// publishTimeout bounds one publish transaction. It does not follow the
// caller's context: a batch carries other callers' events too.
const publishTimeout = 30 * time.Second

// writePublications stores a batch in one transaction. If the batch fails,
// each publication is tried alone, so that one bad event fails only itself.
func (e *Engine) writePublications(ctx context.Context, batch []*publication) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	byEvent := make(map[*model.Event]*publication, len(batch))
	evs := make([]*model.Event, len(batch))
	for i, p := range batch {
		evs[i] = p.event
		byEvent[p.event] = p
	}
	_, deliveries, err := e.store.PublishEvents(ctx, evs,
		func(ev *model.Event, w *model.Webhook) bool { return e.match(byEvent[ev], w) },
		func(ev *model.Event, d *model.Delivery, w *model.Webhook) { e.take(byEvent[ev], d, w) })
	if err != nil && len(batch) > 1 {
		for _, p := range batch {
			// Its deliveries were never stored: give their room back first.
			e.unreserveAll(p)
			p.taken = nil
			p.event.CreatedAt = time.Time{}
			e.writePublications(ctx, []*publication{p})
		}
		return
	}
	for i, p := range batch {
		if err == nil {
			p.deliveries = deliveries[i]
		}
		p.err = err
		close(p.done)
	}
}

// writeAll stores the publications of one publishEvents call in one
// transaction, all of them or none, and sets each one's event (the event
// that holds its idempotency key, when the key was used before) and
// deliveries, or each one's err. A failure that is not the caller's (a
// concurrent publish took one of the keys first, a deadlock) is tried once
// more, after giving back the room taken for deliveries that were not
// stored.
func (e *Engine) writeAll(ctx context.Context, pubs []*publication) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	byEvent := make(map[*model.Event]*publication, len(pubs))
	evs := make([]*model.Event, len(pubs))
	for i, p := range pubs {
		evs[i] = p.event
		byEvent[p.event] = p
	}
	var err error
	for range 2 {
		var (
			events     []*model.Event
			deliveries [][]*model.Delivery
		)
		events, deliveries, err = e.store.PublishEvents(ctx, evs,
			func(ev *model.Event, w *model.Webhook) bool { return e.match(byEvent[ev], w) },
			func(ev *model.Event, d *model.Delivery, w *model.Webhook) { e.take(byEvent[ev], d, w) })
		if err == nil {
			for i, p := range pubs {
				p.event, p.deliveries = events[i], deliveries[i]
			}
			return
		}
		for _, p := range pubs {
			e.unreserveAll(p)
			p.taken = nil
			p.event.CreatedAt = time.Time{}
		}
		var appErr *model.Error
		if errors.As(err, &appErr) {
			break
		}
	}
	for _, p := range pubs {
		p.err = err
	}
}

// observe counts a batch of recorded attempts in the metrics and the debug
// log; the store has told subscribers of them.
func (e *Engine) observe(ctx context.Context, batch []model.AttemptRecord, recorded *model.Recorded) {
	for _, rec := range batch {
		var health model.HealthStatus
		if w := recorded.Webhooks[rec.Delivery.WebhookID]; w != nil {
			health = w.Health
		}
		e.cfg.Observer.ObserveAttempt(rec, health)
		e.log.DebugContext(ctx, "delivery attempt", "request_id", rec.Attempt.RequestID, "delivery", rec.Attempt.DeliveryID, "webhook", rec.Attempt.WebhookID,
			"event", rec.Attempt.EventID, "attempt", rec.Attempt.AttemptNumber, "outcome", rec.Attempt.Outcome,
			"status_code", rec.Attempt.StatusCode, "duration_ms", rec.Attempt.DurationMs, "next", rec.Status)
	}
}

// Redeliver queues one more attempt of the owner's delivery and wakes the
// workers: now, or after the attempt in flight; see Store.Redeliver.
func (e *Engine) Redeliver(ctx context.Context, owner, id string) (*model.Delivery, error) {
	d, err := e.store.Redeliver(ctx, owner, id)
	if err == nil {
		e.Wake()
	}
	return d, err
}

// ReplayFailed re-queues the failed deliveries of the owner's webhook
// created since then and wakes the workers; it returns how many.
func (e *Engine) ReplayFailed(ctx context.Context, owner, webhookID string, since time.Time) (int, error) {
	n, err := e.store.ReplayFailed(ctx, owner, webhookID, since)
	if err == nil && n > 0 {
		e.Wake()
	}
	return n, err
}

// Wake asks for a claim round without blocking: deliveries are due now.
func (e *Engine) Wake() {
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
// flight finish (each bounded by the timeout), records them, releases the
// deliveries it holds but has not started, and returns.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.jobs = make(chan job, e.capacity())
	e.running = true
	e.mu.Unlock()
	records := make(chan model.AttemptRecord, 4*e.cfg.Workers)
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		e.recordLoop(records)
	}()
	var workers sync.WaitGroup
	for range e.cfg.Workers {
		workers.Go(func() {
			for j := range e.jobs {
				if ctx.Err() != nil {
					e.release(j)
					continue
				}
				e.deliver(j, records)
			}
		})
	}
	defer func() {
		e.mu.Lock()
		e.running = false
		close(e.jobs)
		e.mu.Unlock()
		workers.Wait()
		close(records)
		<-recorderDone
		e.releaseWaiting()
	}()

	poll := time.NewTicker(e.cfg.PollInterval)
	defer poll.Stop()
	var failures int
	for {
		full, err := e.claimRound(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures++
			delay := backoff.Exponential(failures, e.cfg.PollInterval, 30*time.Second)
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

// capacity is how many deliveries a process holds at once: in flight,
// queued for a worker, or waiting for their webhook's turn.
func (e *Engine) capacity() int { return 4 * e.cfg.Workers }

// perWebhookHold is how many deliveries of one webhook a process holds:
// MaxInflightPerWebhook sending and as many waiting, so that a waiting one
// is sent within about one timeout, well inside its lease.
func (e *Engine) perWebhookHold() int { return 2 * e.cfg.MaxInflightPerWebhook }

// claimRound claims as many due deliveries as there is room for and hands
// them to the workers. full reports that it claimed a whole batch, so more
// may be waiting.
func (e *Engine) claimRound(ctx context.Context) (full bool, err error) {
	room, saturated := e.room()
	if room <= 0 {
		e.backlog.Store(true)
		return false, nil
	}
	n := min(room, claimBatch)
	ds, err := e.store.ClaimDeliveries(ctx, n, e.lease, saturated)
	if err != nil || len(ds) == 0 {
		// Work for saturated webhooks may still be waiting.
		e.backlog.Store(err != nil || len(saturated) > 0)
		return false, err
	}
	batch, err := e.load(ctx, ds)
	if err != nil {
		if err := e.store.ReleaseDeliveries(context.WithoutCancel(ctx), ds); err != nil {
			e.log.ErrorContext(ctx, "release deliveries", "err", err)
		}
		return false, err
	}
	var excess []*model.Delivery
	for _, j := range batch {
		if !e.hold(j) {
			excess = append(excess, j.delivery)
		}
	}
	if len(excess) > 0 {
		if err := e.store.ReleaseDeliveries(context.WithoutCancel(ctx), excess); err != nil {
			e.log.ErrorContext(ctx, "release excess deliveries", "err", err)
		}
	}
	full = len(ds) == n && len(excess) == 0
	e.backlog.Store(full || len(excess) > 0 || len(saturated) > 0)
	return full, nil
}

// room returns how many more deliveries may be claimed and the webhooks
// that already have all the deliveries they may hold.
func (e *Engine) room() (int, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var saturated []string
	for id, q := range e.queues {
		if q.held() >= e.perWebhookHold() {
			saturated = append(saturated, id)
		}
	}
	return e.capacity() - e.held, saturated
}

// webhookQueue is what one webhook's deliveries occupy in this process.
type webhookQueue struct {
	inflight int
	waiting  []job
}

func (q *webhookQueue) held() int { return q.inflight + len(q.waiting) }

// hold takes a leased delivery into the process: to a worker at once if its
// webhook is under its in-flight cap, else into the webhook's queue. It
// refuses (and the caller gives the lease back) when the process or the
// webhook holds all it may.
func (e *Engine) hold(j job) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running || e.held >= e.capacity() {
		return false
	}
	q := e.queues[j.delivery.WebhookID]
	if q == nil {
		q = &webhookQueue{}
		e.queues[j.delivery.WebhookID] = q
	}
	if q.held() >= e.perWebhookHold() {
		return false
	}
	e.held++
	if q.inflight < e.cfg.MaxInflightPerWebhook {
		q.inflight++
		e.jobs <- j // never blocks: held ≤ capacity = cap(jobs)
	} else {
		q.waiting = append(q.waiting, j)
	}
	return true
}

// reserve counts a delivery about to be published against the process's
// and its webhook's room, so that it can be leased at once; unreserve
// undoes it if the publish fails.
func (e *Engine) reserve(webhookID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running || e.held+e.reserved >= e.capacity() {
		return false
	}
	if q := e.queues[webhookID]; q != nil && q.held()+e.reservedFor[webhookID] >= e.perWebhookHold() {
		return false
	}
	e.reserved++
	e.reservedFor[webhookID]++
	return true
}

func (e *Engine) unreserve(webhookID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reserved--
	if e.reservedFor[webhookID]--; e.reservedFor[webhookID] <= 0 {
		delete(e.reservedFor, webhookID)
	}
}

// finish frees a delivery's slot: the next delivery waiting for the same
// webhook goes to a worker, and a claim round may take more work.
func (e *Engine) finish(d *model.Delivery) {
	e.mu.Lock()
	e.held--
	q := e.queues[d.WebhookID]
	q.inflight--
	if len(q.waiting) > 0 && e.running {
		next := q.waiting[0]
		q.waiting = q.waiting[1:]
		q.inflight++
		e.jobs <- next
	}
	if q.held() == 0 {
		delete(e.queues, d.WebhookID)
	}
	e.mu.Unlock()
	if e.backlog.Load() {
		e.Wake()
	}
}

// load fetches the events and webhooks of claimed deliveries.
func (e *Engine) load(ctx context.Context, ds []*model.Delivery) ([]job, error) {
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

// releaseWaiting gives back the leases of deliveries still waiting for
// their webhook's turn when the engine stops, so that another process (or
// this one, restarted) sends them without waiting for the leases to end.
func (e *Engine) releaseWaiting() {
	e.mu.Lock()
	var ds []*model.Delivery
	for id, q := range e.queues {
		for _, j := range q.waiting {
			ds = append(ds, j.delivery)
		}
		e.held -= len(q.waiting)
		q.waiting = nil
		if q.held() == 0 {
			delete(e.queues, id)
		}
	}
	e.mu.Unlock()
	if len(ds) == 0 {
		return
	}
	if err := e.store.ReleaseDeliveries(context.Background(), ds); err != nil {
		e.log.Error("release waiting deliveries", "deliveries", len(ds), "err", err)
	}
}

// release returns an unstarted job to the queue.
func (e *Engine) release(j job) {
	defer e.finish(j.delivery)
	if err := e.store.ReleaseDeliveries(context.Background(), []*model.Delivery{j.delivery}); err != nil {
		e.log.Error("release delivery", "delivery", j.delivery.ID, "err", err)
	}
}

// deliver makes one attempt of a held delivery and hands the record to the
// recorder. It uses its own context so that shutdown lets the attempt
// finish and be recorded.
func (e *Engine) deliver(j job, records chan<- model.AttemptRecord) {
	defer e.finish(j.delivery)
	ctx := context.Background()
	if j.webhook == nil || !j.webhook.Enabled || j.event == nil {
		if err := e.store.CancelDelivery(ctx, j.delivery); err != nil {
			e.log.Error("cancel delivery", "delivery", j.delivery.ID, "err", err)
		}
		return
	}
	rec := e.attempt(ctx, j, false)
	rec.Webhook = j.webhook
	records <- rec
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
	rec := e.attempt(ctx, job{delivery: d, event: ev, webhook: w}, true)
	rec.Webhook = w
	ctx = context.WithoutCancel(ctx)
	batch := []model.AttemptRecord{rec}
	recorded, err := e.store.RecordAttempts(ctx, batch)
	if err != nil {
		return nil, err
	}
	e.observe(ctx, batch, recorded)
	updated := recorded.Webhooks[w.ID]
	res := &model.PingResult{WebhookID: w.ID, Health: w.Health, StatusCode: rec.Attempt.StatusCode, DurationMs: rec.Attempt.DurationMs, Error: rec.Attempt.Error}
	if updated != nil {
		res.Health = updated.Health
	}
	return res, nil
}
