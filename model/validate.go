package model

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on webhook input.
const (
	MaxURLBytes         = 2048
	MaxDescriptionRunes = 1000
	MaxEvents           = 100
	MaxHeaders          = 50
	MaxHeaderValueBytes = 4096
	MaxFilterKeys       = 50
	MaxFilterValues     = 100
	MaxFilterKeyBytes   = 256
	MaxFilterValueBytes = 512
	MaxFiltersBytes     = 64 << 10
	MaxTokenBytes       = 8192
	MaxOwnerBytes       = 128
)

// WildcardEvent subscribes a webhook to every event type.
const WildcardEvent = "*"

// SecretPrefix starts every Standard Webhooks signing secret.
const SecretPrefix = "whsec_"

var eventNameRE = regexp.MustCompile(`^[A-Za-z0-9*][A-Za-z0-9_.:*-]{0,127}$`)

// Validate checks every field of w against the rules for webhooks and returns
// a BAD_USER_INPUT *Error naming the first field at fault.
func (w *Webhook) Validate() error {
	if err := ValidateURL(w.URL); err != nil {
		return err
	}
	if utf8.RuneCountInString(w.Description) > MaxDescriptionRunes {
		return InvalidField("description", "must be at most %d characters", MaxDescriptionRunes)
	}
	if !utf8.ValidString(w.Description) {
		return InvalidField("description", "must be valid UTF-8")
	}
	if strings.ContainsFunc(w.Description, func(r rune) bool { return r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7f }) {
		return InvalidField("description", "must not contain NUL or other control characters")
	}
	if err := ValidateEvents(w.Events); err != nil {
		return err
	}
	if err := ValidateFilters(w.Filters); err != nil {
		return err
	}
	if !w.Format.IsValid() {
		return InvalidField("format", "must be JSON, XML or TEXT")
	}
	if _, err := ParseSecret(w.Secret); err != nil {
		return InvalidField("secret", "%v", err)
	}
	if w.BearerToken != "" {
		if err := ValidateJWT(w.BearerToken); err != nil {
			return InvalidField("bearerToken", "%v", err)
		}
	}
	if len(w.SharedToken) > MaxTokenBytes || !validHeaderValue(w.SharedToken) {
		return InvalidField("sharedToken", "must be at most %d bytes of printable characters", MaxTokenBytes)
	}
	return w.validateHeaders()
}

// ValidateURL accepts absolute http and https URLs without credentials.
func ValidateURL(raw string) error {
	if len(raw) > MaxURLBytes {
		return InvalidField("url", "must be at most %d bytes", MaxURLBytes)
	}
	// url.Parse keeps spaces in a query as they are, and net/http would
	// then write them into the request line.
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return InvalidField("url", "must not contain spaces or control characters (percent-encode them)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return InvalidField("url", "is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return InvalidField("url", "must be an absolute http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return InvalidField("url", "must name a host")
	}
	if u.User != nil {
		return InvalidField("url", "must not contain credentials")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return InvalidField("url", "must have a port from 1 to 65535")
		}
	}
	return nil
}

// ValidateEvents checks a webhook's list of event type names.
func ValidateEvents(events []string) error {
	if len(events) == 0 {
		return InvalidField("events", "must name at least one event type (\"*\" for all)")
	}
	if len(events) > MaxEvents {
		return InvalidField("events", "must name at most %d event types", MaxEvents)
	}
	for _, e := range events {
		if err := ValidateEventType("events", e); err != nil {
			return err
		}
	}
	return nil
}

// ValidateEventType checks one event type name; field names the input field.
// A "*" stands only alone: matching is exact, so "order.*" would never fire.
func ValidateEventType(field, name string) error {
	if !eventNameRE.MatchString(name) {
		return InvalidField(field, "%s is not a valid event type: use letters, digits and _ . : - (at most 128)", Quote(name))
	}
	if name != WildcardEvent && strings.Contains(name, WildcardEvent) {
		return InvalidField(field, "%s: %q stands only alone, for every event type; list the types you want instead", Quote(name), WildcardEvent)
	}
	return nil
}

// maxQuoted bounds how much of a client's value an error message repeats.
const maxQuoted = 100

// Quote quotes s for an error message, cut to its first 100 bytes, so that a
// huge bad value is not echoed back in full.
func Quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(truncate(s, maxQuoted)) + fmt.Sprintf("… (%d bytes)", len(s))
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ValidateFilters accepts null or an object mapping dotted payload paths to
// non-empty arrays of scalars (strings, numbers, booleans).
func ValidateFilters(f JSON) error {
	if f.IsNull() {
		return nil
	}
	_, err := f.compile()
	return err
}

// validateHeaders refuses names that are not HTTP tokens, values with control
// characters, and headers Hookline sets itself.
func (w *Webhook) validateHeaders() error {
	if len(w.Headers) > MaxHeaders {
		return InvalidField("headers", "must have at most %d entries", MaxHeaders)
	}
	for _, h := range w.Headers {
		if !validHeaderName(h.Name) {
			return InvalidField("headers", "%s is not a valid HTTP header name", Quote(h.Name))
		}
		if len(h.Value) > MaxHeaderValueBytes || !validHeaderValue(h.Value) {
			return InvalidField("headers", "value of %s must be at most %d bytes without control characters", Quote(h.Name), MaxHeaderValueBytes)
		}
		name := strings.ToLower(h.Name)
		switch {
		case reservedHeaders[name], strings.HasPrefix(name, "webhook-"), strings.HasPrefix(name, "proxy-"):
			return InvalidField("headers", "%s is set by Hookline and cannot be overridden", Quote(h.Name))
		case name == "authorization" && w.BearerToken != "":
			return InvalidField("headers", "Authorization cannot be set together with bearerToken")
		case name == SharedTokenHeader && w.SharedToken != "":
			return InvalidField("headers", "%s cannot be set together with sharedToken", SharedTokenHeader)
		case name == "user-agent" && h.Value == "":
			// net/http sends no User-Agent at all for an empty one.
			return InvalidField("headers", "User-Agent must not be empty")
		}
	}
	return nil
}

// SharedTokenHeader carries a webhook's shared token.
const SharedTokenHeader = "x-webhook-shared-token"

// reservedHeaders are set by Hookline or by HTTP itself (hop-by-hop).
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "keep-alive": true, "te": true, "trailer": true, "upgrade": true,
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue refuses control characters other than horizontal tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// NewSecret returns a fresh Standard Webhooks secret: whsec_ and base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret decodes a Standard Webhooks secret (whsec_ + base64 of 24 to 64
// bytes) into the HMAC key.
func ParseSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %q", SecretPrefix)
	}
	// The decoder skips line breaks; a secret given with them is not the
	// one the receiver will check against.
	if strings.ContainsAny(enc, "\r\n") {
		return nil, fmt.Errorf("must not contain line breaks")
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("must be %q followed by standard base64", SecretPrefix)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("must encode 24 to 64 bytes, not %d", len(key))
	}
	return key, nil
}

// ValidateJWT checks that s is a well-formed JWT: three base64url parts whose
// first two decode to JSON objects. The signature is the receiver's to check.
func ValidateJWT(s string) error {
	if len(s) > MaxTokenBytes {
		return fmt.Errorf("must be at most %d bytes", MaxTokenBytes)
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return fmt.Errorf("must be a JWT: three base64url parts separated by dots")
	}
	for i, p := range parts {
		// The decoder skips CR and LF, which would then reach the header.
		if strings.ContainsFunc(p, func(r rune) bool { return !isBase64URL(r) }) {
			return fmt.Errorf("must be a JWT: part %d is not base64url-encoded JSON", i+1)
		}
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil || (i < 2 && !isJSONObject(b)) {
			return fmt.Errorf("must be a JWT: part %d is not base64url-encoded JSON", i+1)
		}
	}
	return nil
}

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// ValidateOwner checks an API key's owner name.
func ValidateOwner(owner string) error {
	if strings.TrimSpace(owner) == "" || len(owner) > MaxOwnerBytes || !utf8.ValidString(owner) || !validHeaderValue(owner) {
		return InvalidField("owner", "must be 1 to %d printable characters", MaxOwnerBytes)
	}
	return nil
}
