package model

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateEventType(t *testing.T) {
	for name, wantOK := range map[string]bool{
		"*": true, "order.created": true, "FWB": true, "a:b_c-d.e": true,
		"order.*": false, "a*": false, "*.created": false, "**": false, "": false, "-a": false,
	} {
		if err := ValidateEventType("events", name); (err == nil) != wantOK {
			t.Errorf("ValidateEventType(%q) = %v; want ok %v", name, err, wantOK)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("awb"); got != `"awb"` {
		t.Errorf("Quote(awb) = %s", got)
	}
	long := strings.Repeat("é", 1000) // 2000 bytes
	got := Quote(long)
	if len(got) > maxQuoted+40 || !strings.HasSuffix(got, "… (2000 bytes)") {
		t.Errorf("Quote of 2000 bytes = %q; want the first %d bytes and the size", got, maxQuoted)
	}
	if cut := truncate(long, 201); len(cut) != 200 || !utf8.ValidString(cut) {
		t.Errorf("truncate(201) = %d bytes, valid UTF-8 %v; want 200 bytes cut at a character", len(cut), utf8.ValidString(cut))
	}
}
