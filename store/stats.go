package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookline/hookline/model"
)

// WebhookStats counts the attempts to deliver to the owner's webhook that
// started in each of n buckets of width from start, oldest first, empty
// buckets included; start must be aligned to width. The database groups the
// attempts by bucket, reading idx_attempts_webhook_started alone. Another
// owner's webhook, or none, is NOT_FOUND.
func (s *Store) WebhookStats(ctx context.Context, owner, webhookID string, start time.Time, width time.Duration, n int) ([]*model.AttemptStats, error) {
	if _, err := getOwned[model.Webhook](ctx, s.db, owner, webhookID, model.PrefixWebhook, "webhook"); err != nil {
		return nil, err
	}
	var rows []statsRow
	if err := s.statsQuery(ctx, webhookID, start, width, n).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("webhook stats: %w", err)
	}
	out := make([]*model.AttemptStats, n)
	for i := range out {
		out[i] = &model.AttemptStats{Start: start.Add(time.Duration(i) * width)}
	}
	for _, r := range rows {
		if r.Bucket < 0 || r.Bucket >= int64(n) || r.Total == 0 {
			continue // cannot be: the query bounds started_at
		}
		b := out[r.Bucket]
		b.Succeeded, b.Failed = int(r.Succeeded), int(r.Total-r.Succeeded)
		mean := int((r.DurationSum + r.Total/2) / r.Total)
		b.DurationMs = &mean
	}
	return out, nil
}

// statsRow is one bucket as the database counts it.
type statsRow struct {
	Bucket      int64
	Succeeded   int64
	Total       int64
	DurationSum int64
}

// statsQuery groups the webhook's attempts that started in the n buckets of
// width from start by bucket number. The bucket is computed from started_at
// in each dialect's own terms, both in whole seconds from start, which is
// where the buckets are aligned. Every column it reads is in
// idx_attempts_webhook_started.
func (s *Store) statsQuery(ctx context.Context, webhookID string, start time.Time, width time.Duration, n int) *gorm.DB {
	start = start.UTC()
	end := start.Add(time.Duration(n) * width)
	secs := int64(width / time.Second)
	var bucket string
	var args []any
	if s.dialect == DialectMySQL {
		bucket, args = "TIMESTAMPDIFF(SECOND, ?, started_at) DIV ?", []any{start, secs}
	} else {
		bucket, args = "(CAST(strftime('%s', started_at) AS INTEGER) - ?) / ?", []any{start.Unix(), secs}
	}
	args = append(args, model.AttemptOutcomeSuccess)
	return s.db.WithContext(ctx).Model(&model.DeliveryAttempt{}).
		Select(bucket+" AS bucket, SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END) AS succeeded, COUNT(*) AS total, SUM(duration_ms) AS duration_sum", args...).
		Where("webhook_id = ? AND started_at >= ? AND started_at < ?", webhookID, start, end).
		Group("bucket")
}
