// Package retention deletes what Hookline keeps no longer: finished
// deliveries and events older than the retention period, and everything of
// the owners being deleted. Every process runs a Sweeper; the store makes
// concurrent sweepers take different rows, so they share the work.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookline/hookline/model"
)

// Store deletes in batches, each in a short transaction of its own;
// *store.Store implements it.
type Store interface {
	// SweepOwners deletes one batch of the rows of owners being deleted,
	// and removes those with nothing left; more says whether to go on.
	SweepOwners(ctx context.Context, limit int) (swept model.Swept, removed []string, more bool, err error)
	// SweepDeliveries deletes one batch of finished deliveries last
	// changed before before, with their attempts.
	SweepDeliveries(ctx context.Context, before time.Time, limit int) (swept model.Swept, more bool, err error)
	// SweepEvents looks at one batch of events created before before,
	// after the position after, and deletes those without deliveries; it
	// returns "" once it has looked at the last.
	SweepEvents(ctx context.Context, before time.Time, after string, limit int) (swept model.Swept, next string, err error)
}

// Observer is told what each batch deleted; *metrics.Metrics implements it.
type Observer interface {
	ObserveSweep(swept model.Swept)
}

// Config tunes a Sweeper.
type Config struct {
	// Period is how long finished deliveries and events are kept after
	// their last change; zero keeps them forever. Owners being deleted are
	// removed either way.
	Period time.Duration
	// Interval is the wait from the end of one pass to the next.
	Interval time.Duration
	// Batch is the most rows a transaction deletes.
	Batch int
	// Observer, when set, is told what each batch deleted.
	Observer Observer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the production defaults: 30 days, swept every
// minute, 500 rows a transaction.
func DefaultConfig() Config {
	return Config{Period: 720 * time.Hour, Interval: time.Minute, Batch: 500}
}

// Sweeper deletes in passes: each pass deletes batch after batch until
// nothing is due, then the sweeper waits for the interval.
type Sweeper struct {
	store Store
	cfg   Config
	log   *slog.Logger
}

// New returns a sweeper of st; zero values of cfg take the defaults,
// except Period, where zero keeps everything.
func New(st Store, cfg Config, log *slog.Logger) *Sweeper {
	def := DefaultConfig()
	if cfg.Interval <= 0 {
		cfg.Interval = def.Interval
	}
	if cfg.Batch <= 0 {
		cfg.Batch = def.Batch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sweeper{store: st, cfg: cfg, log: log}
}

// Run sweeps at once and then every interval until ctx ends, and returns
// nil then. A pass that fails is logged, and the next one tries again.
func (s *Sweeper) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		start := time.Now()
		swept, err := s.Pass(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Error("retention sweep", "err", err, "events", swept.Events, "deliveries", swept.Deliveries, "attempts", swept.Attempts)
		case swept.Total() > 0:
			s.log.Info("retention sweep", "events", swept.Events, "deliveries", swept.Deliveries, "attempts", swept.Attempts,
				"duration", time.Since(start).Round(time.Millisecond))
		}
		t.Reset(s.cfg.Interval)
	}
}

// Pass deletes everything due now: first the rows of owners being
// deleted, then, unless the period is zero, finished deliveries last
// changed before the period began with their attempts, then events created
// before it that have no delivery left. It returns what it deleted, also
// when it stops at an error or at the end of ctx.
func (s *Sweeper) Pass(ctx context.Context) (model.Swept, error) {
	var total model.Swept
	count := func(swept model.Swept) {
		total = total.Add(swept)
		if s.cfg.Observer != nil && swept.Total() > 0 {
			s.cfg.Observer.ObserveSweep(swept)
		}
	}
	for more := true; more && ctx.Err() == nil; {
		swept, removed, m, err := s.store.SweepOwners(ctx, s.cfg.Batch)
		count(swept)
		if err != nil {
			return total, err
		}
		for _, owner := range removed {
			s.log.Info("owner deleted", "owner", owner)
		}
		more = m
	}
	if s.cfg.Period <= 0 {
		return total, ctx.Err()
	}
	before := s.cfg.Now().Add(-s.cfg.Period)
	for more := true; more && ctx.Err() == nil; {
		swept, m, err := s.store.SweepDeliveries(ctx, before, s.cfg.Batch)
		count(swept)
		if err != nil {
			return total, err
		}
		more = m
	}
	for pos := ""; ctx.Err() == nil; {
		swept, next, err := s.store.SweepEvents(ctx, before, pos, s.cfg.Batch)
		count(swept)
		if err != nil {
			return total, err
		}
		if pos = next; pos == "" {
			break
		}
	}
	return total, ctx.Err()
}
