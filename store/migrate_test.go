package store

import (
	"context"
	"log/slog"
	"testing"

	"github.com/hookline/hookline/model"
)

// TestMigrateDropsObsoleteIndexes: a database made by an earlier version
// loses the indexes nothing uses any more, and gains the claim's index.
func TestMigrateDropsObsoleteIndexes(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + t.TempDir() + "/old.db"
	open := func() *Store {
		st, err := Open(ctx, url, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return st
	}
	st := open()
	if err := st.db.Exec("CREATE INDEX idx_deliveries_due ON deliveries (status, next_attempt_at)").Error; err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = open()
	defer st.Close()
	m := st.db.Migrator()
	if m.HasIndex(&model.Delivery{}, "idx_deliveries_due") {
		t.Error("idx_deliveries_due is still there after migrating")
	}
	if !m.HasIndex(&model.Delivery{}, "idx_deliveries_next_attempt") {
		t.Error("idx_deliveries_next_attempt is missing after migrating")
	}
}
