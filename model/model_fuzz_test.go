package model

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// These targets add to fuzz_test.go the properties that need more than the
// validator itself: what the validators accept must survive being sent by
// net/http and read back by a net/http request parser, exactly as the
// delivery engine sends it.

// sendOverPipe sends req with a real http.Transport over an in-memory
// connection to http.ReadRequest and returns the request as read there. The
// error is the transport's when it refuses to send req.
func sendOverPipe(req *http.Request) (*http.Request, error) {
	cc, sc := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	cc.SetDeadline(deadline)
	sc.SetDeadline(deadline)
	type served struct {
		req *http.Request
		err error
	}
	done := make(chan served, 1)
	go func() {
		defer sc.Close()
		r, err := http.ReadRequest(bufio.NewReader(sc))
		if err == nil {
			_, err = io.Copy(io.Discard, r.Body)
		}
		if err == nil {
			_, err = io.WriteString(sc, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		}
		done <- served{r, err}
	}()
	var dialed atomic.Bool
	dial := func(context.Context, string, string) (net.Conn, error) {
		if !dialed.CompareAndSwap(false, true) {
			return nil, errors.New("sendOverPipe: second dial")
		}
		return cc, nil
	}
	tr := &http.Transport{Proxy: nil, DialContext: dial, DialTLSContext: dial, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		cc.Close()
		<-done
		return nil, err
	}
	resp.Body.Close()
	s := <-done
	if s.err != nil {
		return nil, errors.New("request parser: " + s.err.Error())
	}
	return s.req, nil
}

// validWebhook returns a webhook that passes Validate, for a target to vary.
func validWebhook() *Webhook {
	return &Webhook{URL: "https://example.com/hooks", Events: []string{"*"}, Format: PayloadFormatJSON, Secret: NewSecret()}
}

// httpTrim is a header value as HTTP carries it: RFC 9110 field values do
// not include leading or trailing whitespace, and net/http trims it.
func httpTrim(v string) string { return strings.Trim(v, " \t") }

var allPrefixes = []string{PrefixWebhook, PrefixAPIKey, PrefixEvent, PrefixDelivery, PrefixAttempt}

// FuzzValidIDPrefixes: ValidID never panics, whatever the prefix; no string
// is a valid ID of two types; a valid ID is its prefix and 26 characters
// that decode to 16 bytes; fresh IDs of every type are valid for their own
// type only.
func FuzzValidIDPrefixes(f *testing.F) {
	f.Add("wh_06h0grca0bzdbn42nshxazx85r", "wh_")
	f.Add("key_06h0grca0bzdbn42nshxazx85r", "key_")
	f.Add("evt_06H0GRCA0BZDBN42NSHXAZX85R", "evt_")
	f.Add("dlv_06h0grca0bzdbn42nshxazx85", "dlv_")
	f.Add("att_06h0grca0bzdbn42nshxazx85ri", "att_")
	f.Add("wh_06h0grca0bzdbn42nshxazx85r", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, s, prefix string) {
		ValidID(s, prefix)
		var valid []string
		for _, p := range allPrefixes {
			if !ValidID(s, p) {
				continue
			}
			valid = append(valid, p)
			body := s[len(p):]
			if !strings.HasPrefix(s, p) || len(body) != 26 {
				t.Fatalf("ValidID(%q, %q) accepted a body of %d bytes", s, p, len(body))
			}
			if b, err := idEncoding.DecodeString(body); err != nil || len(b) != 16 {
				t.Fatalf("ValidID(%q, %q) accepted a body that decodes to %d bytes, %v", s, p, len(b), err)
			}
		}
		if len(valid) > 1 {
			t.Fatalf("%q is a valid ID for several types: %q", s, valid)
		}
		for _, p := range allPrefixes {
			id := NewID(p)
			for _, q := range allPrefixes {
				if got := ValidID(id, q); got != (p == q) {
					t.Fatalf("ValidID(NewID(%q) = %q, %q) = %v", p, id, q, got)
				}
			}
		}
	})
}

// FuzzFilterMatchScalars: for a scalar of every JSON kind (strings, numbers
// as written, booleans) and any dotted path, the filter {path: [v]} compiles
// and matches the payload holding v at that path, by index through an array
// too, and does not match a payload holding another scalar there or one
// without the path. A path with an empty segment is refused.
func FuzzFilterMatchScalars(f *testing.F) {
	f.Add(uint8(0), "125", 0.0, "awb", "126")
	f.Add(uint8(1), "", 2.5, "order.total", "2.50")
	f.Add(uint8(2), "1.0", 0.0, "n", "1")
	f.Add(uint8(2), "1e400", 0.0, "big", "Infinity")
	f.Add(uint8(2), "-0", 0.0, "z", "0")
	f.Add(uint8(3), "", 1.0, "flags.paid", "false")
	f.Add(uint8(4), `"\u00e9\ud800"`, 0.0, "a.0.b", "é")
	f.Add(uint8(0), "x", 0.0, "a..b", "y")
	f.Add(uint8(0), "\xff", 0.0, "k", "\ufffd")
	f.Fuzz(func(t *testing.T, kind uint8, s string, n float64, path, other string) {
		var raw string // the scalar's JSON text
		switch kind % 5 {
		case 0:
			raw = mustJSON(t, s)
		case 1:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return
			}
			raw = mustJSON(t, n)
		case 2: // a number literal as a client may write it: 1.0, -0, 1e400
			var num json.Number
			if !json.Valid([]byte(s)) || json.Unmarshal([]byte(s), &num) != nil || string(num) != s {
				return
			}
			raw = s
		case 3:
			raw = strconv.FormatBool(n > 0)
		case 4: // any JSON scalar but null, which filters refuse
			var v any
			if !json.Valid([]byte(s)) || json.Unmarshal([]byte(s), &v) != nil || v == nil {
				return
			}
			switch v.(type) {
			case string, float64, bool:
				raw = strings.TrimSpace(s)
			default:
				return
			}
		}
		text := scalarLiteral(t, raw)

		segs := strings.Split(path, ".")
		filter := JSON(`{` + mustJSON(t, path) + `:[` + raw + `]}`)
		fl, err := CompileFilters(filter)
		if slicesContainsEmpty(segs) {
			if err == nil {
				t.Fatalf("CompileFilters(%s) accepted a path with an empty segment", filter)
			}
			return
		}
		if overSizeLimit(err) {
			return
		}
		if err != nil {
			t.Fatalf("CompileFilters(%s): %v", filter, err)
		}
		match := func(payload string) bool {
			t.Helper()
			p, err := DecodePayload(JSON(payload))
			if err != nil {
				t.Fatalf("DecodePayload(%s): %v", payload, err)
			}
			return fl.Match(p)
		}
		if p := nest(t, segs, raw); !match(p) {
			t.Fatalf("filter %s does not match %s", filter, p)
		}
		if otherJSON := mustJSON(t, other); scalarLiteral(t, otherJSON) != text {
			if p := nest(t, segs, otherJSON); match(p) {
				t.Fatalf("filter %s (value text %q) matches %s", filter, text, p)
			}
		}
		if p := nest(t, segs[:len(segs)-1], `{}`); match(p) {
			t.Fatalf("filter %s matches %s, which lacks the path", filter, p)
		}

		// The same value as the first element of an array at the path.
		indexed := JSON(`{` + mustJSON(t, path+".0") + `:[` + raw + `]}`)
		fl, err = CompileFilters(indexed)
		if overSizeLimit(err) {
			return
		}
		if err != nil {
			t.Fatalf("CompileFilters(%s): %v", indexed, err)
		}
		if p := nest(t, segs, `[`+raw+`]`); !match(p) {
			t.Fatalf("filter %s does not match %s", indexed, p)
		}
	})
}

func slicesContainsEmpty(segs []string) bool {
	for _, s := range segs {
		if s == "" {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}

// scalarLiteral is the text a filter compares for the JSON scalar raw:
// strings decoded, numbers as written, booleans as their literals.
func scalarLiteral(t *testing.T, raw string) string {
	t.Helper()
	var s string
	if json.Unmarshal([]byte(raw), &s) == nil {
		return s
	}
	return strings.TrimSpace(raw)
}

// nest wraps the JSON value raw in one object per path segment.
func nest(t *testing.T, segs []string, raw string) string {
	t.Helper()
	for i := len(segs) - 1; i >= 0; i-- {
		raw = `{` + mustJSON(t, segs[i]) + `:` + raw + `}`
	}
	return raw
}

// FuzzHeadersSend: a custom header that Webhook.Validate accepts is not one
// Hookline sets for delivery or signing, net/http agrees to send it (its
// name and value pass net/http's own header validation), and a request
// parser reads back exactly that header with its value, next to the
// signature headers, unchanged.
func FuzzHeadersSend(f *testing.F) {
	f.Add("X-Team", "blue")
	f.Add("x-api-key", "  padded\tvalue  ")
	f.Add("X-Obs-Text", "caf\xc3\xa9 \xff")
	f.Add("Webhook-Signature", "v1,forged")
	f.Add("Content-Type", "text/plain")
	f.Add("X-A", "line\r\nInjected: 1")
	f.Add("X-Nul", "a\x00b")
	f.Add("X_Underscore", "1")
	f.Add("!#$%&'*+-.^_`|~", "token chars")
	f.Add("Bad Header", "x")
	f.Add("X-Unicode-Ñame", "x")
	f.Fuzz(func(t *testing.T, name, value string) {
		w := validWebhook()
		w.Headers = []Header{{Name: name, Value: value}}
		if w.Validate() != nil {
			return
		}
		switch lower := strings.ToLower(name); lower {
		case "host", "content-length", "content-type", "transfer-encoding", "connection",
			"webhook-id", "webhook-timestamp", "webhook-signature":
			t.Fatalf("Validate accepted a custom %q header, which Hookline sets itself", name)
		}
		// Built as delivery.Engine.request builds it.
		req, err := http.NewRequest(http.MethodPost, "http://receiver.example/hook", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", "evt_06h0grca0bzdbn42nshxazx85r")
		req.Header.Set("webhook-timestamp", "1795440312")
		req.Header.Set("webhook-signature", "v1,c2ln")
		req.Header.Set(name, value)
		got, err := sendOverPipe(req)
		if err != nil {
			t.Fatalf("Validate accepted header %q: %q, which net/http refuses to send: %v", name, value, err)
		}
		if vs := got.Header.Values(name); len(vs) != 1 || vs[0] != httpTrim(value) {
			t.Fatalf("header %q: %q arrived as %q", name, value, vs)
		}
		for k, want := range map[string]string{"Content-Type": "application/json", "Webhook-Id": "evt_06h0grca0bzdbn42nshxazx85r",
			"Webhook-Timestamp": "1795440312", "Webhook-Signature": "v1,c2ln"} {
			if vs := got.Header.Values(k); len(vs) != 1 || vs[0] != want {
				t.Fatalf("with custom header %q: %q, %s arrived as %q", name, value, k, vs)
			}
		}
	})
}

// FuzzValidateURLSend: a URL that ValidateURL accepts can be requested:
// net/http builds and sends a POST to it, and the request target a parser
// reads is the URL's.
func FuzzValidateURLSend(f *testing.F) {
	f.Add("https://example.com/hooks?team=blue")
	f.Add("http://127.0.0.1:8080/a/b%2Fc")
	f.Add("https://[::1]:8443/a?b#c")
	f.Add("http://[fe80::1%25eth0]/")
	f.Add("https://xn--caf-dma.example/")
	f.Add("https://%C3%A9.example/")
	f.Add("http://example.com/ space")
	f.Add("http://example.com:/")
	f.Add("http://example.com:99999/")
	f.Add("http://u:p@example.com/")
	f.Add("https://example.com/" + strings.Repeat("a", 2030))
	f.Fuzz(func(t *testing.T, raw string) {
		// URLs arrive as GraphQL strings, which are UTF-8; a host of raw
		// bytes such as "http://xn--\x81" cannot be sent, but cannot be set.
		if !utf8.ValidString(raw) || ValidateURL(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("ValidateURL accepted %q, which url.Parse refuses: %v", raw, err)
		}
		req, err := http.NewRequest(http.MethodPost, raw, strings.NewReader(`{}`))
		if err != nil {
			t.Fatalf("ValidateURL accepted %q, for which http.NewRequest fails: %v", raw, err)
		}
		got, err := sendOverPipe(req)
		if err != nil {
			t.Fatalf("ValidateURL accepted %q, which net/http cannot send: %v", raw, err)
		}
		if got.RequestURI != u.RequestURI() {
			t.Fatalf("POST %q arrived with request target %q; want %q", raw, got.RequestURI, u.RequestURI())
		}
	})
}

// FuzzSecretBytes: "whsec_" and the standard base64 of any key parses back
// to that key exactly when the key has 24 to 64 bytes, so no secret that
// Standard Webhooks libraries accept in that range is refused.
func FuzzSecretBytes(f *testing.F) {
	f.Add([]byte("0123456789abcdef01234567"))
	f.Add([]byte("0123456789abcdef0123456"))
	f.Add(make([]byte, 64))
	f.Add(make([]byte, 65))
	f.Add([]byte{})
	f.Add([]byte("\xff\xfe\x00 this key is thirty-two bytes!!"))
	f.Fuzz(func(t *testing.T, key []byte) {
		s := SecretPrefix + base64.StdEncoding.EncodeToString(key)
		got, err := ParseSecret(s)
		if ok := len(key) >= 24 && len(key) <= 64; ok != (err == nil) {
			t.Fatalf("ParseSecret(%q) (a %d-byte key) error %v", s, len(key), err)
		}
		if err == nil && string(got) != string(key) {
			t.Fatalf("ParseSecret(%q) = %x; want %x", s, got, key)
		}
	})
}

// FuzzTokensSend: a bearer token or shared token that Webhook.Validate
// accepts can be sent: net/http agrees to send "Authorization: Bearer
// <token>" and the shared-token header, and a request parser reads them back.
func FuzzTokensSend(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	f.Add("e30.e30.")
	f.Add("e30.e30")
	f.Add("shared-plain-token")
	f.Add(" spaced token\t")
	f.Add("e30\r\n.e30.c2ln")
	f.Add("token\r\nX-Injected: 1")
	f.Fuzz(func(t *testing.T, token string) {
		w := validWebhook()
		w.BearerToken = token
		if token != "" && w.Validate() == nil {
			req, _ := http.NewRequest(http.MethodPost, "http://receiver.example/hook", strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+token)
			got, err := sendOverPipe(req)
			if err != nil {
				t.Fatalf("Validate accepted bearerToken %q, which net/http refuses to send: %v", token, err)
			}
			if a := got.Header.Get("Authorization"); a != httpTrim("Bearer "+token) {
				t.Fatalf("bearerToken %q arrived as Authorization %q", token, a)
			}
		}
		w = validWebhook()
		w.SharedToken = token
		if token != "" && w.Validate() == nil {
			req, _ := http.NewRequest(http.MethodPost, "http://receiver.example/hook", strings.NewReader(`{}`))
			req.Header.Set(SharedTokenHeader, token)
			got, err := sendOverPipe(req)
			if err != nil {
				t.Fatalf("Validate accepted sharedToken %q, which net/http refuses to send: %v", token, err)
			}
			if vs := got.Header.Values(SharedTokenHeader); len(vs) != 1 || vs[0] != httpTrim(token) {
				t.Fatalf("sharedToken %q arrived as %q", token, vs)
			}
		}
	})
}

// overSizeLimit tells a filter refused for a key or value over its size
// limit, which JSON can push a fuzzed string past: each invalid UTF-8 byte
// becomes a three-byte U+FFFD.
func overSizeLimit(err error) bool {
	return err != nil && strings.Contains(err.Error(), "bytes") && strings.Contains(err.Error(), "longer than")
}
