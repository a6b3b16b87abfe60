// Package metrics exposes Hookline's Prometheus metrics: deliveries, the
// queue, subscriptions and GraphQL operations.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/hookline/hookline/model"
)

// QueueStats reports the delivery queue; *store.Store implements it.
type QueueStats interface {
	QueueStats(ctx context.Context) (depth int, oldest *time.Time, err error)
}

// Metrics holds Hookline's collectors on a registry of its own.
type Metrics struct {
	registry         *prometheus.Registry
	attempts         *prometheus.CounterVec
	finished         *prometheus.CounterVec
	attemptDuration  prometheus.Histogram
	attemptsByHealth *prometheus.CounterVec
	subscriptions    prometheus.Gauge
	operations       *prometheus.CounterVec
	opDuration       *prometheus.HistogramVec
	retentionDeleted *prometheus.CounterVec
}

// New registers the collectors; queue, when not nil, is asked for the queue
// depth and the oldest pending delivery's age at each scrape.
func New(queue QueueStats, log *slog.Logger) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_delivery_attempts_total", Help: "Delivery attempts by outcome (success, failure).",
		}, []string{"outcome"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_deliveries_finished_total", Help: "Deliveries that reached a final status (succeeded, dead).",
		}, []string{"status"}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_delivery_attempt_duration_seconds", Help: "Time from sending a delivery to the end of the receiver's answer.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		attemptsByHealth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_delivery_attempts_by_webhook_health_total", Help: "Delivery attempts by the webhook's health after the attempt.",
		}, []string{"health"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_active_subscriptions", Help: "GraphQL subscriptions open on this process.",
		}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_graphql_operations_total",
			Help: "GraphQL queries and mutations by root field (an operation with several counts under each) and outcome (ok, error).",
		}, []string{"field", "outcome"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookline_graphql_operation_duration_seconds", Help: "GraphQL query and mutation duration by root field.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"field"}),
		retentionDeleted: newRetentionDeleted(),
	}
	// Series whose labels are known in advance exist from the start, at 0,
	// so that rate() and alerts see the first increment.
	for _, o := range []model.AttemptOutcome{model.AttemptOutcomeSuccess, model.AttemptOutcomeFailure} {
		m.attempts.WithLabelValues(lower(string(o)))
	}
	for _, s := range []model.DeliveryStatus{model.DeliveryStatusSucceeded, model.DeliveryStatusDead} {
		m.finished.WithLabelValues(lower(string(s)))
	}
	for _, h := range []model.HealthStatus{model.HealthStatusHealthy, model.HealthStatusUnhealthy, model.HealthStatusUnknown} {
		m.attemptsByHealth.WithLabelValues(lower(string(h)))
	}
	m.registry.MustRegister(m.retentionDeleted)
	m.registry.MustRegister(m.attempts, m.finished, m.attemptDuration, m.attemptsByHealth, m.subscriptions, m.operations, m.opDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queue != nil {
		m.registry.MustRegister(&queueCollector{stats: queue, log: log})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveAttempt counts a recorded attempt; it implements delivery.Observer.
func (m *Metrics) ObserveAttempt(rec model.AttemptRecord, health model.HealthStatus) {
	m.attempts.WithLabelValues(lower(string(rec.Attempt.Outcome))).Inc()
	m.attemptDuration.Observe(float64(rec.Attempt.DurationMs) / 1000)
	if health != "" {
		m.attemptsByHealth.WithLabelValues(lower(string(health))).Inc()
	}
	if rec.Status == model.DeliveryStatusSucceeded || rec.Status == model.DeliveryStatusDead {
		m.finished.WithLabelValues(lower(string(rec.Status))).Inc()
	}
}

// SubscriptionStarted and SubscriptionEnded track open subscriptions.
func (m *Metrics) SubscriptionStarted() { m.subscriptions.Inc() }

// SubscriptionEnded is the counterpart of SubscriptionStarted.
func (m *Metrics) SubscriptionEnded() { m.subscriptions.Dec() }

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Extension returns a gqlgen extension that counts and times queries and
// mutations by root field. Labels are the root fields of the schema, a
// fixed set, never names a client chose: an operation's name could tell
// one tenant's business to whoever reads the metrics, and every new name
// would be a series kept forever.
func (m *Metrics) Extension() graphql.HandlerExtension { return &operationMetrics{m: m} }

// Fixed label values of hookline_graphql_operations_total besides the
// schema's root fields.
const (
	// LabelInvalid counts requests that did not parse or validate.
	LabelInvalid = "invalid"
	// LabelOther counts root fields not in the schema's query or mutation
	// type, such as __typename.
	LabelOther = "other"
)

type operationMetrics struct {
	m *Metrics
	// fields are the query and mutation types' fields, read from the
	// schema by Validate, before serving.
	fields map[string]bool
}

func (*operationMetrics) ExtensionName() string { return "HooklineMetrics" }

// Validate reads the root fields from the schema.
func (o *operationMetrics) Validate(es graphql.ExecutableSchema) error {
	s := es.Schema()
	o.fields = map[string]bool{}
	for _, def := range []*ast.Definition{s.Query, s.Mutation} {
		if def == nil {
			continue
		}
		for _, f := range def.Fields {
			o.fields[f.Name] = true
		}
	}
	return nil
}

func (o *operationMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
		return next(ctx) // counted by hookline_active_subscriptions, not per message
	}
	resp := next(ctx)
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
	}
	took := time.Since(oc.Stats.OperationStart).Seconds()
	for _, label := range o.labels(oc) {
		o.m.operations.WithLabelValues(label, outcome).Inc()
		o.m.opDuration.WithLabelValues(label).Observe(took)
	}
	return resp
}

// labels returns the label values of an operation: its distinct root
// fields, fragments expanded (@skip and @include aside), as named by the
// schema.
func (o *operationMetrics) labels(oc *graphql.OperationContext) []string {
	if oc.Operation == nil {
		return []string{LabelInvalid}
	}
	var labels []string
	seen := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				label := s.Name
				if !o.fields[label] {
					label = LabelOther
				}
				if !slices.Contains(labels, label) {
					labels = append(labels, label)
				}
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if f := oc.Doc.Fragments.ForName(s.Name); f != nil && !seen[s.Name] {
					seen[s.Name] = true
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(oc.Operation.SelectionSet)
	if len(labels) == 0 {
		labels = append(labels, LabelOther)
	}
	return labels
}

// queueCollector reads the queue's depth and age from the database at each scrape.
type queueCollector struct {
	stats QueueStats
	log   *slog.Logger
}

var (
	depthDesc  = prometheus.NewDesc("hookline_queue_depth", "Deliveries waiting for an attempt (pending or retrying).", nil, nil)
	oldestDesc = prometheus.NewDesc("hookline_queue_oldest_pending_age_seconds", "Age of the oldest delivery waiting for an attempt.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc; ch <- oldestDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depth, oldest, err := c.stats.QueueStats(ctx)
	if err != nil {
		c.log.Warn("queue metrics", "err", err)
		return
	}
	age := 0.0
	if oldest != nil {
		age = max(0, time.Since(*oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}
