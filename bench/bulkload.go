package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite" // the driver Hookline's GORM dialect uses, so times are written alike
	"github.com/go-sql-driver/mysql"

	"github.com/hookline/hookline/model"
)

// Batch sizes of the bulk load: rows per INSERT and per transaction.
const (
	rowsPerInsert = 500
	rowsPerTx     = 50_000
)

// benchOwner owns everything the admin key creates (server.go: ensureAdminKey).
const benchOwner = "admin"

// openDatabase opens the database behind a Hookline database URL directly.
func openDatabase(dbURL string) (*sql.DB, error) {
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.SetMaxOpenConns(1)
		return db, nil
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dbURL, "mysql://"))
	if err != nil {
		return nil, fmt.Errorf("parse mysql dsn: %w", err)
	}
	// As Hookline opens it: UTC both ways, microseconds kept.
	cfg.ParseTime, cfg.Loc, cfg.InterpolateParams = true, time.UTC, true
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	return db, nil
}

// table describes the rows bulkLoad writes: values returns row i's values
// in the order of columns, given its new ID and creation time.
type table struct {
	name    string
	prefix  string // of model.NewID
	columns []string
	values  func(i int, id string, createdAt time.Time) []any
	// id, when set, gives row i's ID instead of model.NewID, so that
	// tables loaded one after another can refer to each other's rows.
	id func(i int) string
}

// webhookTable is webhooks for one event type, owned by benchOwner.
func webhookTable() table {
	return table{
		name:   "webhooks",
		prefix: model.PrefixWebhook,
		columns: []string{"id", "owner", "url", "description", "events", "filters", "format", "enabled", "headers",
			"secret", "previous_secret", "bearer_token", "shared_token", "health", "consecutive_failures", "created_at", "updated_at"},
		values: func(i int, id string, at time.Time) []any {
			return []any{id, benchOwner, fmt.Sprintf("https://example.com/hooks/%d", i), "", `["bench.page"]`, nil, "JSON", true, "[]",
				"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "", "", "", "HEALTHY", 0, at, at}
		},
	}
}

// deliveryTable is succeeded deliveries of made-up events to the given webhooks.
func deliveryTable(webhookIDs []string) table {
	return table{
		name:    "deliveries",
		prefix:  model.PrefixDelivery,
		columns: []string{"id", "owner", "event_id", "webhook_id", "status", "attempt_count", "lease_token", "created_at", "updated_at"},
		values: func(i int, id string, at time.Time) []any {
			return []any{id, benchOwner, model.NewID(model.PrefixEvent), webhookIDs[i%len(webhookIDs)], "SUCCEEDED", 1, "", at, at}
		},
	}
}

// bulkLoad inserts n rows into t in multi-row INSERTs inside large
// transactions; row i is created at base + i µs, so that every row has its
// own time. keep says how many of the new IDs to return (the first ones).
func bulkLoad(ctx context.Context, db *sql.DB, t table, n int, base time.Time, keep int) ([]string, error) {
	ids := make([]string, 0, keep)
	for start := 0; start < n; start += rowsPerTx {
		end := min(start+rowsPerTx, n)
		if err := loadTx(ctx, db, t, start, end, base, &ids, keep); err != nil {
			return nil, fmt.Errorf("load %s rows %d-%d: %w", t.name, start, end, err)
		}
	}
	return ids, nil
}

func loadTx(ctx context.Context, db *sql.DB, t table, start, end int, base time.Time, ids *[]string, keep int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	placeholders := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.columns)), ",") + ")"
	head := "INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES "
	for from := start; from < end; from += rowsPerInsert {
		to := min(from+rowsPerInsert, end)
		args := make([]any, 0, (to-from)*len(t.columns))
		for i := from; i < to; i++ {
			id := model.NewID(t.prefix)
			if t.id != nil {
				id = t.id(i)
			}
			if len(*ids) < keep {
				*ids = append(*ids, id)
			}
			args = append(args, t.values(i, id, base.Add(time.Duration(i)*time.Microsecond))...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(placeholders+",", to-from), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// position is a row's place in a list ordered newest first by (created_at, id).
type position struct {
	createdAt time.Time
	id        string
}

// cursor encodes p as Hookline does (store/page.go): base64url of
// "<created_at Unix µs>:<id>".
func (p position) cursor() string {
	return base64URL(fmt.Sprintf("%d:%s", p.createdAt.UnixMicro(), p.id))
}

// rowsAt returns the rows at 0-based positions offset and offset+1 of
// benchOwner's list in table, newest first, as Hookline orders it.
func rowsAt(ctx context.Context, db *sql.DB, tableName string, offset int) ([2]position, error) {
	var out [2]position
	rows, err := db.QueryContext(ctx, "SELECT created_at, id FROM "+tableName+
		" WHERE owner = ? ORDER BY created_at DESC, id DESC LIMIT 2 OFFSET ?", benchOwner, offset)
	if err != nil {
		return out, fmt.Errorf("find row %d of %s: %w", offset, tableName, err)
	}
	defer rows.Close()
	for i := 0; rows.Next(); i++ {
		if i >= 2 {
			break
		}
		var at any
		if err := rows.Scan(&at, &out[i].id); err != nil {
			return out, fmt.Errorf("find row %d of %s: %w", offset, tableName, err)
		}
		if out[i].createdAt, err = asTime(at); err != nil {
			return out, fmt.Errorf("find row %d of %s: %w", offset, tableName, err)
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("find row %d of %s: %w", offset, tableName, err)
	}
	if out[1].id == "" {
		return out, fmt.Errorf("find row %d of %s: the table is shorter", offset, tableName)
	}
	return out, nil
}

// asTime reads a DATETIME column: a time.Time, or SQLite's text.
func asTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		return time.Parse("2006-01-02 15:04:05.999999999-07:00", t)
	case []byte:
		return time.Parse("2006-01-02 15:04:05.999999999-07:00", string(t))
	}
	return time.Time{}, fmt.Errorf("created_at is a %T", v)
}
