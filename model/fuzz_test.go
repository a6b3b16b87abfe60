package model

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzValidID: never panics; fresh IDs are valid for their prefix only.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"wh_06h0grca0bzdbn42nshxazx85r", "wh_", "key_zzzzzzzzzzzzzzzzzzzzzzzzzz", "evt_\x00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ValidID(s, PrefixWebhook)
		for _, p := range []string{PrefixWebhook, PrefixEvent} {
			id := NewID(p)
			if !ValidID(id, p) {
				t.Fatalf("NewID(%q) = %q is not valid", p, id)
			}
		}
		if ValidID(NewID(PrefixEvent), PrefixWebhook) {
			t.Fatal("an event ID is valid as a webhook ID")
		}
	})
}

// FuzzFilterMatch: compiling arbitrary filters and matching arbitrary
// payloads never panics; a one-rule filter matches a payload holding its value.
func FuzzFilterMatch(f *testing.F) {
	f.Add(`{"awb":["125"],"dcId":["1","2"]}`, `{"awb":"125","dcId":2}`, "125")
	f.Add(`{"a.b.0":[true]}`, `{"a":{"b":[true]}}`, "x")
	f.Add(`[1]`, `null`, "")
	f.Fuzz(func(t *testing.T, filters, payload, value string) {
		if fl, err := CompileFilters(JSON(filters)); err == nil {
			if p, err := DecodePayload(JSON(payload)); err == nil {
				fl.Match(p)
			}
		}
		rule, _ := json.Marshal(map[string][]string{"k": {value}})
		doc, _ := json.Marshal(map[string]string{"k": value})
		fl, err := CompileFilters(JSON(rule))
		var sent map[string][]string // as JSON carries it: invalid UTF-8 grows to U+FFFD
		json.Unmarshal(rule, &sent)
		if err != nil && len(sent["k"][0])+2 > MaxFilterValueBytes {
			return // over the value limit, the quotes perhaps counted
		}
		if err != nil {
			t.Fatalf("filter %s: %v", rule, err)
		}
		p, err := DecodePayload(JSON(doc))
		if err != nil {
			t.Fatal(err)
		}
		if !fl.Match(p) {
			t.Fatalf("filter %s does not match %s", rule, doc)
		}
	})
}

// FuzzValidateURL: never panics; accepted URLs are absolute http(s) URLs
// with a host, without credentials, within the length limit.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hooks", "http://u:p@x", "ftp://x", "http://", "https://[::1]:8080/a?b#c", "https://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateURL(s) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(s) > MaxURLBytes {
			t.Fatalf("ValidateURL accepted %q", s)
		}
	})
}

// FuzzHeaders: validation never panics, and every header it accepts can be
// sent by net/http (it refuses nothing it accepted).
func FuzzHeaders(f *testing.F) {
	f.Add("X-Team", "blue")
	f.Add("Bad Header", "x")
	f.Add("X-A", "line\r\nInjected: 1")
	f.Add("webhook-id", "x")
	f.Fuzz(func(t *testing.T, name, value string) {
		w := &Webhook{URL: "https://example.com", Events: []string{"*"}, Format: PayloadFormatJSON, Secret: NewSecret(),
			Headers: []Header{{Name: name, Value: value}}}
		if w.Validate() != nil {
			return
		}
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(name, value)
		var sb strings.Builder
		if err := req.Header.Write(&sb); err != nil {
			t.Fatalf("accepted header %q: %q cannot be written: %v", name, value, err)
		}
		if strings.ContainsAny(value, "\r\n") {
			t.Fatalf("accepted a header value with a line break: %q", value)
		}
	})
}

// FuzzParseSecret: never panics; fresh secrets parse; accepted secrets hold 24-64 bytes.
func FuzzParseSecret(f *testing.F) {
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Add("whsec_")
	f.Add("nope")
	f.Fuzz(func(t *testing.T, s string) {
		if key, err := ParseSecret(s); err == nil && (len(key) < 24 || len(key) > 64) {
			t.Fatalf("ParseSecret(%q) accepted %d bytes", s, len(key))
		}
		if _, err := ParseSecret(NewSecret()); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzValidateJWT: never panics; accepted tokens have three parts.
func FuzzValidateJWT(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	f.Add("a.b.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateJWT(s) == nil && strings.Count(s, ".") != 2 {
			t.Fatalf("ValidateJWT accepted %q", s)
		}
	})
}
