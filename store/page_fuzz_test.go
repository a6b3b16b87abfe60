package store

import (
	"errors"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
)

// FuzzCursorEncode checks the direction FuzzDecodeCursor does not: every
// position page can hand out (a time MySQL can store and a non-empty ID,
// colons included) encodes to a cursor that decodeCursor accepts and that
// names the same position, so a client can always ask for the next page.
func FuzzCursorEncode(f *testing.F) {
	f.Add(time.Date(2026, 11, 23, 13, 24, 0, 123456000, time.UTC).UnixMicro(), "wh_06h0grca0bzdbn42nshxazx85r")
	f.Add(int64(0), "evt_00000000000000000000000000")
	f.Add(maxCursorMicros, "dlv_zzzzzzzzzzzzzzzzzzzzzzzzzz")
	f.Add(int64(1), "a:b:c")
	f.Add(int64(-1), "x")
	f.Add(maxCursorMicros+1, "x")
	f.Add(int64(42), "")
	f.Fuzz(func(t *testing.T, micros int64, id string) {
		if micros < 0 || micros > maxCursorMicros || id == "" {
			return
		}
		c := cursor{createdAt: time.UnixMicro(micros).UTC(), id: id}
		s := c.encode()
		if len(s) > 128 {
			// decodeCursor refuses cursors this long. IDs are at most 30
			// bytes, so page never hands one out; longer ones are not
			// positions of real rows.
			if len(id) <= 30 {
				t.Fatalf("cursor for (%d, %q) is %d bytes; decodeCursor refuses more than 128", micros, id, len(s))
			}
			return
		}
		got, err := decodeCursor("after", s)
		if err != nil {
			t.Fatalf("decodeCursor(encode(%d, %q) = %q): %v", micros, id, s, err)
		}
		if !got.createdAt.Equal(c.createdAt) || got.createdAt.UnixMicro() != micros || got.id != id {
			t.Fatalf("decodeCursor(encode(%d, %q)) = (%d, %q)", micros, id, got.createdAt.UnixMicro(), got.id)
		}
	})
}

// FuzzPageArgsQuery checks what parsePageArgs promises beyond not panicking
// (FuzzParsePageArgs): empty cursors included, it refuses with
// BAD_USER_INPUT naming one of the four arguments, or returns a query whose
// direction, size and cursor follow from the arguments and that ignores no
// argument.
func FuzzPageArgsQuery(f *testing.F) {
	valid := cursor{createdAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), id: "wh_06h0grca0bzdbn42nshxazx85r"}.encode()
	f.Add(10, true, "", false, 0, false, "", false)
	f.Add(0, false, valid, true, 0, false, "", false)
	f.Add(0, false, "", false, 5, true, valid, true)
	f.Add(0, false, "", false, 0, false, valid, true)
	f.Add(0, false, "", true, 0, false, "", false)
	f.Add(101, true, "", false, 0, false, "", false)
	f.Add(-1, false, "", false, -1, true, "", false)
	f.Add(3, true, valid, true, 3, true, valid, true)
	f.Add(0, false, valid, true, 0, false, valid, true)
	f.Fuzz(func(t *testing.T, first int, hasFirst bool, after string, hasAfter bool, last int, hasLast bool, before string, hasBefore bool) {
		var args model.PageArgs
		if hasFirst {
			args.First = &first
		}
		if hasAfter {
			args.After = &after
		}
		if hasLast {
			args.Last = &last
		}
		if hasBefore {
			args.Before = &before
		}
		q, err := parsePageArgs(args)
		if err != nil {
			var me *model.Error
			if !errors.As(err, &me) || me.Code != model.CodeBadUserInput {
				t.Fatalf("parsePageArgs error %v (%T); want a BAD_USER_INPUT *model.Error", err, err)
			}
			switch me.Field {
			case "first", "after", "last", "before":
			default:
				t.Fatalf("parsePageArgs error names field %q; want first, after, last or before", me.Field)
			}
			return
		}
		if hasFirst && hasLast || hasFirst && hasBefore || hasLast && hasAfter {
			t.Fatalf("parsePageArgs accepted conflicting arguments first=%v after=%v last=%v before=%v", hasFirst, hasAfter, hasLast, hasBefore)
		}
		// A query holds one cursor, so with both cursors one would be
		// dropped without a word: the page could then hold rows on the
		// wrong side of it. Both must be refused, as first+before and
		// last+after are.
		if hasAfter && hasBefore {
			t.Fatalf("parsePageArgs(after: %q, before: %q) accepted both cursors and kept only one (backward=%v)", after, before, q.backward)
		}
		if want := hasLast || hasBefore; q.backward != want {
			t.Fatalf("backward = %v; want %v", q.backward, want)
		}
		wantLimit := model.DefaultPageSize
		switch {
		case hasFirst:
			wantLimit = first
		case hasLast:
			wantLimit = last
		}
		if q.limit != wantLimit || q.limit < 0 || q.limit > model.MaxPageSize {
			t.Fatalf("limit = %d; want %d within [0, %d]", q.limit, wantLimit, model.MaxPageSize)
		}
		raw, has := after, hasAfter
		if q.backward {
			raw, has = before, hasBefore
		}
		if (q.cursor != nil) != has {
			t.Fatalf("cursor = %v; want one exactly when the cursor argument is given (%v)", q.cursor, has)
		}
		if has {
			want, err := decodeCursor("x", raw)
			if err != nil {
				t.Fatalf("parsePageArgs accepted cursor %q that decodeCursor refuses: %v", raw, err)
			}
			if !q.cursor.createdAt.Equal(want.createdAt) || q.cursor.id != want.id {
				t.Fatalf("cursor = %+v; want %+v", *q.cursor, want)
			}
		}
	})
}
