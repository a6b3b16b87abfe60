package store

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hookline/hookline/model"
	"gorm.io/gorm"
)

// TestMigrateDropsObsoleteIndexes: a database made by an earlier version
// loses the indexes nothing uses any more, and gains the claim's index.
func TestMigrateDropsObsoleteIndexes(t *testing.T) {
	for name, open := range oldDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			if err := st.db.Exec("CREATE INDEX idx_deliveries_due ON deliveries (status, next_attempt_at)").Error; err != nil {
				t.Fatal(err)
			}
			st.Close()

			st = open(t)
			defer st.Close()
			m := st.db.Migrator()
			if m.HasIndex(&model.Delivery{}, "idx_deliveries_due") {
				t.Error("idx_deliveries_due is still there after migrating")
			}
			if !m.HasIndex(&model.Delivery{}, "idx_deliveries_next_attempt") {
				t.Error("idx_deliveries_next_attempt is missing after migrating")
			}
		})
	}
}

// TestMigrateFillsTheIndexes: webhooks and keys stored before the owners
// table and the event-type index existed are in both after migrating, and
// events published then reach them.
func TestMigrateFillsTheIndexes(t *testing.T) {
	for name, open := range oldDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			var ids []string
			for i, events := range [][]string{{"a", "b"}, {"*"}, {"c"}} {
				w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: []string{"acme", "acme", "globex"}[i], URL: "https://example.com/h",
					Events: events, Format: model.PayloadFormatJSON, Enabled: true, Secret: model.NewSecret(), Health: model.HealthStatusUnknown}
				if err := st.CreateWebhook(ctx, w); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, w.ID)
			}
			// As an earlier version left it.
			for _, table := range []string{"webhook_events", "owners"} {
				if err := st.db.Exec("DELETE FROM " + table).Error; err != nil {
					t.Fatal(err)
				}
			}
			st.Close()

			st = open(t)
			defer st.Close()
			var owners []string
			if err := st.db.Model(&ownerRow{}).Order("name").Pluck("name", &owners).Error; err != nil || len(owners) != 2 {
				t.Errorf("owners after migrating = %v, %v; want acme, globex", owners, err)
			}
			for typ, want := range map[string][]string{"a": {ids[0], ids[1]}, "c": {ids[1]}, "z": {ids[1]}} {
				var got []string
				err := st.db.Transaction(func(tx *gorm.DB) error {
					hooks, err := st.subscribedWebhooks(tx, "acme", typ)
					for _, w := range hooks {
						got = append(got, w.ID)
					}
					return err
				})
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("acme's webhooks subscribed to %q = %v, %v; want %v", typ, got, err, want)
				}
			}
		})
	}
}

// reopener returns a func that opens the same SQLite file each time.
func reopener(t *testing.T) func() *Store {
	url := "sqlite://" + t.TempDir() + "/old.db"
	return func() *Store {
		st, err := Open(context.Background(), url, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return st
	}
}

// TestSQLiteFileIsInWALMode: a file database is switched to write-ahead
// logging, which lets readers run beside the writer.
func TestSQLiteFileIsInWALMode(t *testing.T) {
	st := reopener(t)()
	defer st.Close()
	var mode string
	if err := st.db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q; want wal", mode)
	}
}

// TestMigrateNumbersAttemptsUniquely: a database made before attempt
// numbers were unique, holding attempts recorded twice under one number,
// gets the unique index; each repeated number moves up to the next free
// one in the order the attempts started, a delivery counting fewer
// attempts than its highest number is raised to it, and the other
// deliveries' attempts keep their numbers. Migrating again changes nothing.
func TestMigrateNumbersAttemptsUniquely(t *testing.T) {
	for name, open := range oldDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			m := st.db.Migrator()
			for _, err := range []error{
				m.DropIndex(&model.DeliveryAttempt{}, attemptNumbersIndex),
				st.db.Exec("CREATE INDEX idx_attempts_delivery ON delivery_attempts (delivery_id, attempt_number)").Error,
			} {
				if err != nil {
					t.Fatalf("make the database as an earlier version left it: %v", err)
				}
			}
			start := time.Now().UTC().Truncate(time.Second)
			type attempt struct {
				number  int
				started int // seconds after start
			}
			deliveries := []struct {
				count    int
				attempts []attempt
				want     []int // numbers in start order
				count2   int   // attempt count after migrating
			}{
				{5, []attempt{{1, 0}, {2, 1}, {2, 3}, {2, 2}, {3, 4}}, []int{1, 2, 3, 4, 5}, 5},
				{2, []attempt{{1, 0}, {2, 1}}, []int{1, 2}, 2},
				{1, []attempt{{1, 1}, {1, 0}}, []int{1, 2}, 2},
				{3, []attempt{{3, 0}}, []int{3}, 3},
			}
			ids := make([]string, len(deliveries))
			for i, dd := range deliveries {
				d := &model.Delivery{ID: model.NewID(model.PrefixDelivery), Owner: "acme", EventID: model.NewID(model.PrefixEvent),
					WebhookID: model.NewID(model.PrefixWebhook), Status: model.DeliveryStatusSucceeded, AttemptCount: dd.count, CreatedAt: start, UpdatedAt: start}
				if err := st.db.Create(d).Error; err != nil {
					t.Fatal(err)
				}
				ids[i] = d.ID
				for _, a := range dd.attempts {
					att := &model.DeliveryAttempt{ID: model.NewID(model.PrefixAttempt), Owner: "acme", DeliveryID: d.ID, WebhookID: d.WebhookID,
						EventID: d.EventID, EventType: "t", AttemptNumber: a.number, Outcome: model.AttemptOutcomeFailure,
						StartedAt: start.Add(time.Duration(a.started) * time.Second), RequestHeaders: []model.Header{}, ResponseHeaders: []model.Header{}}
					if err := st.db.Create(att).Error; err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := m.DropColumn(&model.Delivery{}, "redeliver_requested"); err != nil {
				t.Fatal(err)
			}
			st.Close()

			for range 2 {
				st = open(t)
				m = st.db.Migrator()
				if !m.HasIndex(&model.DeliveryAttempt{}, attemptNumbersIndex) || m.HasIndex(&model.DeliveryAttempt{}, "idx_attempts_delivery") {
					t.Errorf("after migrating: %s %t, idx_attempts_delivery %t; want only the first",
						attemptNumbersIndex, m.HasIndex(&model.DeliveryAttempt{}, attemptNumbersIndex), m.HasIndex(&model.DeliveryAttempt{}, "idx_attempts_delivery"))
				}
				if !m.HasColumn(&model.Delivery{}, "redeliver_requested") {
					t.Error("deliveries.redeliver_requested is missing after migrating")
				}
				for i, dd := range deliveries {
					var got []int
					err := st.db.Model(&model.DeliveryAttempt{}).Where("delivery_id = ?", ids[i]).Order("started_at").Pluck("attempt_number", &got).Error
					if err != nil {
						t.Fatal(err)
					}
					var d model.Delivery
					if err := st.db.Where("id = ?", ids[i]).Take(&d).Error; err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, dd.want) || d.AttemptCount != dd.count2 {
						t.Errorf("delivery %d: attempt numbers %v, count %d; want %v, %d", i, got, d.AttemptCount, dd.want, dd.count2)
					}
				}
				dup := &model.DeliveryAttempt{ID: model.NewID(model.PrefixAttempt), Owner: "acme", DeliveryID: ids[1], WebhookID: "w", EventID: "e",
					EventType: "t", AttemptNumber: 2, Outcome: model.AttemptOutcomeFailure, StartedAt: start, RequestHeaders: []model.Header{}, ResponseHeaders: []model.Header{}}
				if err := st.db.Create(dup).Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
					t.Errorf("a second attempt 2 after migrating: err = %v; want %v", err, gorm.ErrDuplicatedKey)
				}
				st.Close()
			}
		})
	}
}

// oldDatabases returns, by name, funcs that each open one database afresh
// every time they are called: a SQLite file, and a MySQL database when
// HOOKLINE_TEST_MYSQL_DSN is set, dropped when the test ends.
func oldDatabases(t *testing.T) map[string]func(testing.TB) *Store {
	dbs := map[string]func(testing.TB) *Store{"sqlite": opener("sqlite://" + t.TempDir() + "/old.db")}
	dsn := os.Getenv("HOOKLINE_TEST_MYSQL_DSN")
	if dsn == "" {
		return dbs
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = "hookline_migrate_" + strings.ToLower(rand.Text()[:8])
	open := opener("mysql://" + cfg.FormatDSN())
	t.Cleanup(func() {
		st := open(t)
		st.db.Exec("DROP DATABASE IF EXISTS `" + cfg.DBName + "`")
		st.Close()
	})
	dbs["mysql"] = open
	return dbs
}

// opener returns a func that opens the database at url.
func opener(url string) func(testing.TB) *Store {
	return func(tb testing.TB) *Store {
		tb.Helper()
		st, err := Open(context.Background(), url, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		return st
	}
}

// TestMigrateAddsTheStatsIndex: a database made before webhook statistics
// gains the index they read.
func TestMigrateAddsTheStatsIndex(t *testing.T) {
	for name, open := range oldDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			if err := st.db.Migrator().DropIndex(&model.DeliveryAttempt{}, "idx_attempts_webhook_started"); err != nil {
				t.Fatal(err)
			}
			st.Close()

			st = open(t)
			defer st.Close()
			if !st.db.Migrator().HasIndex(&model.DeliveryAttempt{}, "idx_attempts_webhook_started") {
				t.Error("idx_attempts_webhook_started is missing after migrating")
			}
		})
	}
}
