package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookline/hookline/model"
)

// newRetentionDeleted returns hookline_retention_deleted_total with each
// kind present from the start, at 0.
func newRetentionDeleted() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookline_retention_deleted_total", Help: "Rows deleted by retention and by the removal of owners, by kind (events, deliveries, attempts).",
	}, []string{"kind"})
	for _, kind := range []string{"events", "deliveries", "attempts"} {
		c.WithLabelValues(kind)
	}
	return c
}

// ObserveSweep counts what a batch of the retention sweeper deleted; it
// implements retention.Observer.
func (m *Metrics) ObserveSweep(s model.Swept) {
	m.retentionDeleted.WithLabelValues("events").Add(float64(s.Events))
	m.retentionDeleted.WithLabelValues("deliveries").Add(float64(s.Deliveries))
	m.retentionDeleted.WithLabelValues("attempts").Add(float64(s.Attempts))
}

// OldestEvent reports when the oldest stored event was created, nil when
// there is none; *store.Store implements it.
type OldestEvent interface {
	OldestEvent(ctx context.Context) (*time.Time, error)
}

// WatchOldestEvent exposes hookline_oldest_event_age_seconds, read from src
// at each scrape: with retention working, it stays a little above the
// retention period.
func (m *Metrics) WatchOldestEvent(src OldestEvent, log *slog.Logger) {
	m.registry.MustRegister(&oldestEventCollector{src: src, log: log})
}

var oldestEventDesc = prometheus.NewDesc("hookline_oldest_event_age_seconds", "Age of the oldest stored event; 0 when there is none.", nil, nil)

type oldestEventCollector struct {
	src OldestEvent
	log *slog.Logger
}

func (c *oldestEventCollector) Describe(ch chan<- *prometheus.Desc) { ch <- oldestEventDesc }

func (c *oldestEventCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	oldest, err := c.src.OldestEvent(ctx)
	if err != nil {
		c.log.Warn("oldest event metric", "err", err)
		return
	}
	age := 0.0
	if oldest != nil {
		age = max(0, time.Since(*oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(oldestEventDesc, prometheus.GaugeValue, age)
}
