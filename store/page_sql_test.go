package store_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// sqlRecorder is a slog handler that keeps the SQL the store logs.
type sqlRecorder struct {
	mu  sync.Mutex
	sql []string
}

func (r *sqlRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *sqlRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *sqlRecorder) WithGroup(string) slog.Handler            { return r }
func (r *sqlRecorder) Handle(_ context.Context, rec slog.Record) error {
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "sql" {
			r.mu.Lock()
			r.sql = append(r.sql, a.Value.String())
			r.mu.Unlock()
		}
		return true
	})
	return nil
}

func (r *sqlRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sql
	r.sql = nil
	return out
}

// TestPagesSeekNeverOffset: a page after a cursor is found by a keyset
// condition on (created_at, id), never by skipping rows with OFFSET, so a
// deep page costs what the first one does.
func TestPagesSeekNeverOffset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		rec := &sqlRecorder{}
		st := storetest.OpenWith(t, newURL(t), store.Options{Logger: slog.New(rec)})
		w := newHook(t, st)
		newHook(t, st)
		newHook(t, st)
		leased(t, st, w, 3, "t")
		two := 2
		rec.take()

		hooks, err := st.Webhooks(ctx, "acme", nil, model.PageArgs{First: &two})
		if err != nil {
			t.Fatal(err)
		}
		hooks, err = st.Webhooks(ctx, "acme", nil, model.PageArgs{First: &two, After: hooks.PageInfo.EndCursor})
		if err != nil || len(hooks.Edges) != 1 {
			t.Fatalf("second page of webhooks: %d rows, %v; want 1", len(hooks.Edges), err)
		}
		ds, err := st.Deliveries(ctx, "acme", model.DeliveryFilter{}, model.PageArgs{First: &two})
		if err != nil {
			t.Fatal(err)
		}
		ds, err = st.Deliveries(ctx, "acme", model.DeliveryFilter{}, model.PageArgs{Last: &two, Before: ds.PageInfo.EndCursor})
		if err != nil || len(ds.Edges) != 1 {
			t.Fatalf("page of deliveries before the end of the first: %d rows, %v; want 1", len(ds.Edges), err)
		}

		var pages int
		for _, q := range rec.take() {
			if !strings.Contains(q, "LIMIT") {
				continue // counts
			}
			pages++
			if strings.Contains(strings.ToUpper(q), "OFFSET") {
				t.Errorf("page query uses OFFSET: %s", q)
			}
		}
		if pages < 4 {
			t.Errorf("saw %d page queries; want the 4 pages read", pages)
		}
	})
}
