package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookline/hookline/model"
)

// ownerRow lists an owner that has, or had, an API key or a webhook, so that
// owners can be listed by name without scanning those tables.
type ownerRow struct {
	Name string `gorm:"primaryKey;size:128"`
	// DeleteRequestedAt is when DeleteOwner was called; the sweeper then
	// removes the owner's rows and, last, this one.
	DeleteRequestedAt *time.Time `gorm:"index"`
}

func (ownerRow) TableName() string { return "owners" }

// addOwner records owner, if new, in tx. An owner being deleted takes no
// new keys or webhooks (FORBIDDEN). The insert locks the owner's row, so a
// concurrent DeleteOwner waits for tx or is seen by it.
func addOwner(tx *gorm.DB, owner string) error {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ownerRow{Name: owner}).Error; err != nil {
		return err
	}
	var row ownerRow
	if err := tx.Where("name = ?", owner).Take(&row).Error; err != nil {
		return err
	}
	if row.DeleteRequestedAt != nil {
		return errOwnerDeleting(owner)
	}
	return nil
}

// fillOwners records the owners of the keys and webhooks stored before the
// owners table existed; once it holds any, there is nothing to do.
func fillOwners(tx *gorm.DB) error {
	var n int64
	if err := tx.Model(&ownerRow{}).Limit(1).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	var rows []ownerRow
	for _, table := range []string{"api_keys", "webhooks"} {
		var names []string
		if err := tx.Table(table).Distinct("owner").Pluck("owner", &names).Error; err != nil {
			return fmt.Errorf("fill owners from %s: %w", table, err)
		}
		for _, name := range names {
			rows = append(rows, ownerRow{Name: name})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
}

// Owners returns a page of the owners with a key or a webhook, by name,
// each with its counts.
func (s *Store) Owners(ctx context.Context, prefix *string, first *int, after *string) (*model.OwnerConnection, error) {
	limit := model.DefaultPageSize
	if first != nil {
		if *first < 0 || *first > model.MaxPageSize {
			return nil, model.InvalidField("first", "must be between 0 and %d", model.MaxPageSize)
		}
		limit = *first
	}
	base := func() *gorm.DB {
		q := s.db.Model(&ownerRow{})
		if prefix != nil && *prefix != "" {
			q = q.Where("name LIKE ? ESCAPE '!'", likeEscape(*prefix)+"%")
			// SQLite's LIKE ignores ASCII case; owners are case-sensitive.
			q = q.Where("SUBSTR(name, 1, ?) = ?", utf8.RuneCountInString(*prefix), *prefix)
		}
		return q
	}
	q := base().WithContext(ctx)
	if after != nil {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		if err != nil || len(b) == 0 || len(b) > model.MaxOwnerBytes {
			return nil, model.InvalidField("after", "is not a valid cursor")
		}
		q = q.Where("name > ?", string(b))
	}
	var rows []ownerRow
	if err := q.Order("name").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list owners: %w", err)
	}
	info := &model.PageInfo{HasNextPage: len(rows) > limit, HasPreviousPage: after != nil}
	owners, err := s.ownerCounts(ctx, rows[:min(len(rows), limit)])
	if err != nil {
		return nil, err
	}
	conn := &model.OwnerConnection{Edges: make([]*model.OwnerEdge, len(owners)), PageInfo: info, Count: counter(base)}
	for i, o := range owners {
		conn.Edges[i] = &model.OwnerEdge{Cursor: base64.RawURLEncoding.EncodeToString([]byte(o.Name)), Node: o}
	}
	if len(conn.Edges) > 0 {
		info.StartCursor, info.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}

// ownerCounts returns the owners of rows, in order, with their counts: one
// grouped query per table, one indexed lookup per owner for its last
// event, and, for an owner being deleted, what remains of it.
func (s *Store) ownerCounts(ctx context.Context, rows []ownerRow) ([]*model.Owner, error) {
	owners := make([]*model.Owner, len(rows))
	names := make([]string, len(rows))
	byName := make(map[string]*model.Owner, len(rows))
	for i, r := range rows {
		owners[i] = &model.Owner{Name: r.Name, Deleting: r.DeleteRequestedAt != nil}
		names[i] = r.Name
		byName[r.Name] = owners[i]
	}
	if len(names) == 0 {
		return owners, nil
	}
	var hooks []struct {
		Owner     string
		Total     int
		Unhealthy int
	}
	err := s.db.WithContext(ctx).Model(&model.Webhook{}).
		Select("owner, COUNT(*) AS total, SUM(CASE WHEN health = ? THEN 1 ELSE 0 END) AS unhealthy", model.HealthStatusUnhealthy).
		Where("owner IN ?", names).Group("owner").Scan(&hooks).Error
	if err != nil {
		return nil, fmt.Errorf("count owners' webhooks: %w", err)
	}
	for _, h := range hooks {
		byName[h.Owner].WebhookCount, byName[h.Owner].UnhealthyWebhookCount = h.Total, h.Unhealthy
	}
	var keys []struct {
		Owner string
		Total int
	}
	err = s.db.WithContext(ctx).Model(&model.APIKey{}).Select("owner, COUNT(*) AS total").
		Where("owner IN ? AND revoked_at IS NULL", names).Group("owner").Scan(&keys).Error
	if err != nil {
		return nil, fmt.Errorf("count owners' keys: %w", err)
	}
	for _, k := range keys {
		byName[k.Owner].APIKeyCount = k.Total
	}
	for _, o := range owners {
		var last []model.Event
		err := s.db.WithContext(ctx).Select("created_at").Where("owner = ?", o.Name).Order("created_at DESC").Limit(1).Find(&last).Error
		if err != nil {
			return nil, fmt.Errorf("owner's last event: %w", err)
		}
		if len(last) > 0 {
			o.LastEventAt = &last[0].CreatedAt
		}
		if o.Deleting {
			events, deliveries, err := s.remaining(ctx, o.Name)
			if err != nil {
				return nil, err
			}
			o.RemainingEvents, o.RemainingDeliveries = &events, &deliveries
		}
	}
	return owners, nil
}

// APIKeys returns a page of unrevoked API keys, newest first: owner's, or
// every owner's when owner is "".
func (s *Store) APIKeys(ctx context.Context, owner string, args model.PageArgs) (*model.APIKeyConnection, error) {
	base := func() *gorm.DB {
		q := s.db.Model(&model.APIKey{}).Where("revoked_at IS NULL")
		if owner != "" {
			q = q.Where("owner = ?", owner)
		}
		return q
	}
	rows, info, err := page(ctx, base, args, func(k *model.APIKey) cursor { return cursor{k.CreatedAt, k.ID} })
	if err != nil {
		return nil, err
	}
	conn := &model.APIKeyConnection{Edges: make([]*model.APIKeyEdge, len(rows)), PageInfo: info, Count: counter(base)}
	for i, k := range rows {
		conn.Edges[i] = &model.APIKeyEdge{Cursor: cursor{k.CreatedAt, k.ID}.encode(), Node: k}
	}
	return conn, nil
}
