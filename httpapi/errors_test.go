package httpapi

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipMessage(t *testing.T) {
	long := strings.Repeat("a", 300)
	clipped := strings.Repeat("a", maxQuoted) + "…"
	tests := []struct {
		name string
		msg  string
		want string
	}{
		{"Short", `Cannot query field "x" on type "Query".`, `Cannot query field "x" on type "Query".`},
		{"Quoted", `Cannot query field "` + long + `" on type "Query".`, `Cannot query field "` + clipped + `" on type "Query".`},
		{"QuotedWithSpaces", `value "` + strings.Repeat("a ", 150) + `" refused`, `value "` + strings.Repeat("a ", maxQuoted/2) + `…" refused`},
		{"Word", `operation ` + long + ` not found`, `operation ` + clipped + ` not found`},
		{"UnmatchedQuote", `name "` + long, `name "` + clipped},
		{"ManyFragments", strings.Repeat(`"`+long+`" `, 20), strings.Repeat(`"`+clipped+`" `, 20)[:maxMessage] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clipMessage(tt.msg); got != tt.want {
				t.Errorf("clipMessage(%.40q…) = %q; want %q", tt.msg, got, tt.want)
			}
		})
	}
	t.Run("WholeCharacters", func(t *testing.T) {
		got := clipMessage(`name "` + strings.Repeat("é", 200) + `"`)
		if !utf8.ValidString(got) || len(got) > maxQuoted+len(`name ""…`) {
			t.Errorf("clipMessage of a 2-byte character string = %q (%d bytes); want valid UTF-8 of at most %d bytes", got, len(got), maxQuoted)
		}
	})
}
