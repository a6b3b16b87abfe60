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

// lines keeps what concurrent writers add, until taken.
type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, s)
}

// take returns the lines added since the last take.
func (l *lines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

// sqlRecorder is a slog handler that keeps the SQL the store logs.
type sqlRecorder struct{ lines }

func (r *sqlRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *sqlRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *sqlRecorder) WithGroup(string) slog.Handler            { return r }
func (r *sqlRecorder) Handle(_ context.Context, rec slog.Record) error {
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "sql" {
			r.add(a.Value.String())
		}
		return true
	})
	return nil
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
