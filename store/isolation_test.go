package store

import (
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// TestMySQLReadCommitted: every connection, in a transaction or not, runs
// at READ COMMITTED, whichever name the server gives the variable, and on a
// database that Open had to create.
func TestMySQLReadCommitted(t *testing.T) {
	dsn := os.Getenv("HOOKLINE_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Skip("HOOKLINE_TEST_MYSQL_DSN is not set")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = "hookline_isolation_" + rand.Text()[:8]
	ctx := context.Background()
	st, err := Open(ctx, "mysql://"+cfg.FormatDSN(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		st.db.Exec("DROP DATABASE IF EXISTS `" + cfg.DBName + "`")
		st.Close()
	})
	isolation := func(db *gorm.DB) string {
		t.Helper()
		var level string
		if err := db.Raw("SELECT @@transaction_isolation").Scan(&level).Error; err != nil {
			if err := db.Raw("SELECT @@tx_isolation").Scan(&level).Error; err != nil {
				t.Fatalf("read isolation level: %v", err)
			}
		}
		return level
	}
	if got := isolation(st.db); got != "READ-COMMITTED" {
		t.Errorf("isolation outside a transaction = %s, want READ-COMMITTED", got)
	}
	err = st.transaction(ctx, func(tx *gorm.DB) error {
		if got := isolation(tx); got != "READ-COMMITTED" {
			t.Errorf("isolation in a transaction = %s, want READ-COMMITTED", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
