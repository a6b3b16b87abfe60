package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookline/hookline/model"
)

// InsertAttempt stores an attempt as it is, number included, bypassing
// RecordAttempts.
func InsertAttempt(s *Store, a *model.DeliveryAttempt) error { return s.db.Create(a).Error }

// ExplainWebhookStats returns the database's plan for the query behind
// WebhookStats, one row per line: EXPLAIN QUERY PLAN's detail on SQLite,
// EXPLAIN's table, type, key and Extra on MySQL.
func (s *Store) ExplainWebhookStats(ctx context.Context, webhookID string, start time.Time, width time.Duration, n int) ([]string, error) {
	var rows []statsRow
	stmt := s.statsQuery(ctx, webhookID, start, width, n).Session(&gorm.Session{DryRun: true}).Scan(&rows).Statement
	explain := "EXPLAIN QUERY PLAN "
	if s.dialect == DialectMySQL {
		explain = "EXPLAIN "
	}
	var plan []map[string]any
	if err := s.db.WithContext(ctx).Raw(explain+stmt.SQL.String(), stmt.Vars...).Scan(&plan).Error; err != nil {
		return nil, err
	}
	var out []string
	for _, row := range plan {
		if s.dialect == DialectMySQL {
			out = append(out, fmt.Sprintf("table=%s type=%s key=%s Extra=%s", str(row["table"]), str(row["type"]), str(row["key"]), str(row["Extra"])))
		} else {
			out = append(out, str(row["detail"]))
		}
	}
	return out, nil
}

func str(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}
