package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hookline/hookline/model"
)

// maxCursorMicros is the end of year 9999, the last time MySQL can store.
var maxCursorMicros = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).UnixMicro()

// cursor is a position in a list ordered by (created_at, id), newest first.
type cursor struct {
	createdAt time.Time
	id        string
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.createdAt.UnixMicro(), 10) + ":" + c.id))
}

func decodeCursor(field, s string) (cursor, error) {
	bad := model.InvalidField(field, "is not a valid cursor")
	if len(s) > 128 {
		return cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	micros, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return cursor{}, bad
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || us < 0 || us > maxCursorMicros {
		return cursor{}, bad
	}
	return cursor{createdAt: time.UnixMicro(us).UTC(), id: id}, nil
}

// pageQuery is a validated PageArgs.
type pageQuery struct {
	limit    int
	backward bool // last/before: read in ascending order, then reverse
	cursor   *cursor
}

func parsePageArgs(args model.PageArgs) (pageQuery, error) {
	if args.First != nil && args.Last != nil {
		return pageQuery{}, model.InvalidField("last", "cannot be combined with first")
	}
	if args.First != nil && args.Before != nil {
		return pageQuery{}, model.InvalidField("before", "cannot be combined with first; use after")
	}
	if args.Last != nil && args.After != nil {
		return pageQuery{}, model.InvalidField("after", "cannot be combined with last; use before")
	}
	if args.After != nil && args.Before != nil {
		// A page seeks from one cursor; keeping one would silently ignore the other.
		return pageQuery{}, model.InvalidField("before", "cannot be combined with after")
	}
	q := pageQuery{limit: model.DefaultPageSize}
	field, n := "first", args.First
	if args.Last != nil || args.Before != nil {
		q.backward = true
		field, n = "last", args.Last
	}
	if n != nil {
		if *n < 0 || *n > model.MaxPageSize {
			return pageQuery{}, model.InvalidField(field, "must be between 0 and %d", model.MaxPageSize)
		}
		q.limit = *n
	}
	name, raw := "after", args.After
	if q.backward {
		name, raw = "before", args.Before
	}
	if raw != nil {
		c, err := decodeCursor(name, *raw)
		if err != nil {
			return pageQuery{}, err
		}
		q.cursor = &c
	}
	return q, nil
}

// page runs a keyset (seek) query for one page of a list ordered newest first
// by (created_at, id). base returns a fresh query with the list's conditions;
// key returns a row's position. The cost does not depend on how deep the page is.
func page[T any](ctx context.Context, base func() *gorm.DB, args model.PageArgs, key func(*T) cursor) ([]*T, *model.PageInfo, error) {
	pq, err := parsePageArgs(args)
	if err != nil {
		return nil, nil, err
	}
	q := base().WithContext(ctx)
	if pq.cursor != nil {
		q = q.Where(seek(pq.backward, false), pq.cursor.createdAt, pq.cursor.createdAt, pq.cursor.createdAt, pq.cursor.id)
	}
	order := "created_at DESC, id DESC"
	if pq.backward {
		order = "created_at ASC, id ASC"
	}
	var rows []*T
	if err := q.Order(order).Limit(pq.limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("list page: %w", err)
	}
	more := len(rows) > pq.limit
	if more {
		rows = rows[:pq.limit]
	}
	if pq.backward {
		slices.Reverse(rows)
	}
	// Rows on the other side of the cursor, the cursor's own row included.
	var behind bool
	if pq.cursor != nil {
		var ids []string
		err := base().WithContext(ctx).Where(seek(!pq.backward, true), pq.cursor.createdAt, pq.cursor.createdAt, pq.cursor.createdAt, pq.cursor.id).
			Limit(1).Pluck("id", &ids).Error
		if err != nil {
			return nil, nil, fmt.Errorf("list page: %w", err)
		}
		behind = len(ids) > 0
	}
	info := &model.PageInfo{HasNextPage: more, HasPreviousPage: behind}
	if pq.backward {
		info.HasNextPage, info.HasPreviousPage = behind, more
	}
	if len(rows) > 0 {
		start, end := key(rows[0]).encode(), key(rows[len(rows)-1]).encode()
		info.StartCursor, info.EndCursor = &start, &end
	}
	return rows, info, nil
}

// seek returns the condition for rows older than a cursor (after it in list
// order) or, with towardNewer, newer than it; inclusive also takes the
// cursor's own row. It takes the cursor's time three times and its ID once.
// The leading bound on created_at alone is redundant but lets both
// databases seek the (owner, created_at, id) index to the cursor instead of
// scanning from the list's start, which an OR alone does not.
func seek(towardNewer, inclusive bool) string {
	bound, op, idOp := "<=", "<", "<"
	if towardNewer {
		bound, op, idOp = ">=", ">", ">"
	}
	if inclusive {
		idOp += "="
	}
	return "created_at " + bound + " ? AND (created_at " + op + " ? OR (created_at = ? AND id " + idOp + " ?))"
}

// likeEscape escapes s for a LIKE pattern using ESCAPE '!'.
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// keysetIndex names, on MySQL, the index a keyset query must walk. MariaDB
// otherwise reads the (owner, ...) prefix by equality and scans from the
// list's start to the cursor, which a page 900,000 rows deep makes take
// seconds; forced, it seeks to the cursor.
func (s *Store) keysetIndex(q *gorm.DB, table, index string) *gorm.DB {
	if s.dialect != DialectMySQL {
		return q
	}
	return q.Table(table + " FORCE INDEX (" + index + ")")
}
