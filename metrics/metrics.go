// Package metrics exposes Hookline's Prometheus metrics: deliveries, the
// queue, subscriptions and GraphQL operations.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	opNames          operationNames
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
			Name: "hookline_graphql_operations_total", Help: "GraphQL operations by operation name and outcome (ok, error).",
		}, []string{"operation", "outcome"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookline_graphql_operation_duration_seconds", Help: "GraphQL operation duration, subscriptions excluded.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"operation"}),
		retentionDeleted: newRetentionDeleted(),
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

// Extension returns a gqlgen extension that counts and times operations.
func (m *Metrics) Extension() graphql.HandlerExtension { return operationMetrics{m} }

type operationMetrics struct{ m *Metrics }

func (operationMetrics) ExtensionName() string                   { return "HooklineMetrics" }
func (operationMetrics) Validate(graphql.ExecutableSchema) error { return nil }
func (o operationMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation == "subscription" {
		return next(ctx) // counted by hookline_active_subscriptions, not per message
	}
	resp := next(ctx)
	name := o.m.opNames.label(oc)
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
	}
	o.m.operations.WithLabelValues(name, outcome).Inc()
	o.m.opDuration.WithLabelValues(name).Observe(time.Since(oc.Stats.OperationStart).Seconds())
	return resp
}

// MaxOperationNames is how many distinct operation names get a label value
// of their own; later ones are counted as "other".
const MaxOperationNames = 200

// operationNames turns operations into label values. Clients choose the
// names, so their number is capped: each value is a series kept forever.
type operationNames struct {
	mu   sync.Mutex
	seen map[string]bool
}

// label is the operation's name; anonymous and over-long names are grouped
// by operation type, and names past the first MaxOperationNames as "other".
func (n *operationNames) label(oc *graphql.OperationContext) string {
	if oc.Operation == nil {
		return "invalid"
	}
	name := oc.Operation.Name
	if name == "" || len(name) > 64 {
		return "anonymous_" + string(oc.Operation.Operation)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.seen[name] {
		if len(n.seen) >= MaxOperationNames {
			return "other"
		}
		if n.seen == nil {
			n.seen = map[string]bool{}
		}
		n.seen[name] = true
	}
	return name
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
