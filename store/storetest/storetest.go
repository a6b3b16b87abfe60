// Package storetest opens real databases for tests: an in-memory SQLite
// database always, and a fresh MySQL database when HOOKLINE_TEST_MYSQL_DSN is
// set (a go-sql-driver DSN such as root@tcp(127.0.0.1:3306)/hookline_test).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/hookline/hookline/store"
)

// MySQLEnv names the variable that enables the MySQL tests.
const MySQLEnv = "HOOKLINE_TEST_MYSQL_DSN"

// Each runs fn as a subtest once per database under test, with a database
// URL that store.Open accepts. Each call of the URL's newURL returns a fresh,
// empty database that is dropped when the test ends.
func Each(t *testing.T, fn func(t *testing.T, newURL func(testing.TB) string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(testing.TB) string { return "sqlite://:memory:" })
	})
	if os.Getenv(MySQLEnv) == "" {
		return
	}
	t.Run("mysql", func(t *testing.T) {
		fn(t, NewMySQLURL)
	})
}

// NewMySQLURL creates an empty MySQL database named after the configured one
// with a random suffix, drops it when tb ends, and returns its URL. It fails
// the test if HOOKLINE_TEST_MYSQL_DSN is unset or the server is unreachable.
func NewMySQLURL(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(MySQLEnv)
	if dsn == "" {
		tb.Fatalf("%s is not set", MySQLEnv)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", MySQLEnv, err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := cfg.DBName
	if name == "" {
		name = "hookline_test"
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatalf("open mysql: %v", err)
	}
	tb.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(context.Background()); err != nil {
		tb.Fatalf("%s is set but MySQL is unreachable: %v", MySQLEnv, err)
	}
	cfg.DBName = name + "_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec("CREATE DATABASE `" + cfg.DBName + "`"); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS `" + cfg.DBName + "`"); err != nil {
			tb.Errorf("drop database %s: %v", cfg.DBName, err)
		}
	})
	return "mysql://" + cfg.FormatDSN()
}

// Open opens the database at url and closes it when tb ends.
func Open(tb testing.TB, url string) *store.Store {
	tb.Helper()
	return OpenWith(tb, url, store.Options{Logger: slog.New(slog.DiscardHandler)})
}

// OpenWith opens the database at url with opts and closes it when tb ends.
func OpenWith(tb testing.TB, url string, opts store.Options) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), url, opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
