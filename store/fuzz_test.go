package store

import (
	"testing"

	"github.com/hookline/hookline/model"
)

// FuzzDecodeCursor: decoding never panics, and a cursor that decodes
// re-encodes to one that decodes to the same position.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "MTc5NTQzNjkzOTgwNDYwNTp3aF8wNmgw", "garbage", "OTk5OTk5OTk5OTk5OTk5OTk5OndoX3g", "LTE6d2g", "Og"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor("after", s)
		if err != nil {
			if model.ErrorCode(err) != model.CodeBadUserInput {
				t.Fatalf("decodeCursor(%q) error code %s; want BAD_USER_INPUT", s, model.ErrorCode(err))
			}
			return
		}
		again, err := decodeCursor("after", c.encode())
		if err != nil || !again.createdAt.Equal(c.createdAt) || again.id != c.id {
			t.Fatalf("cursor %q decoded to %+v, re-encoded to one that decodes to %+v, %v", s, c, again, err)
		}
	})
}

// FuzzParsePageArgs: any combination of arguments is accepted or refused
// with BAD_USER_INPUT, never a panic, and an accepted page size is in range.
func FuzzParsePageArgs(f *testing.F) {
	f.Add(20, false, "", 0, false, "")
	f.Add(-1, true, "abc", 101, true, "MTox")
	f.Fuzz(func(t *testing.T, first int, hasFirst bool, after string, last int, hasLast bool, before string) {
		var args model.PageArgs
		if hasFirst {
			args.First = &first
		}
		if hasLast {
			args.Last = &last
		}
		if after != "" {
			args.After = &after
		}
		if before != "" {
			args.Before = &before
		}
		pq, err := parsePageArgs(args)
		if err != nil {
			if model.ErrorCode(err) != model.CodeBadUserInput {
				t.Fatalf("error code %s; want BAD_USER_INPUT", model.ErrorCode(err))
			}
			return
		}
		if pq.limit < 0 || pq.limit > model.MaxPageSize {
			t.Fatalf("accepted page size %d", pq.limit)
		}
	})
}
