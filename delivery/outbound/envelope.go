package outbound

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/model"
)

// Envelope is an event as a receiver sees it.
type Envelope struct {
	ID        string
	Type      string
	Timestamp time.Time
	// Data is the event's payload: any JSON value. Empty means null.
	Data json.RawMessage
}

// Content types of rendered bodies.
const (
	ContentTypeJSON = "application/json"
	ContentTypeXML  = "application/xml"
	ContentTypeText = "text/plain; charset=utf-8"
)

// Render returns the request body for env in the given format and its
// content type. It fails when format is unknown or env.Data is not valid JSON.
//
//   - JSON: {"id":…,"type":…,"timestamp":…,"data":…} without insignificant
//     whitespace; the timestamp is RFC 3339 in UTC and data is env.Data,
//     compacted.
//   - XML: <event><id>…</id><type>…</type><timestamp>…</timestamp><data>…</data></event>
//     after an XML declaration. Data is converted: an object member becomes an
//     element named after its key (in the order of the JSON), an array member
//     repeats that element once per item (an empty array adds nothing), an
//     array anywhere else becomes <item> elements, a scalar becomes text and
//     null an empty element. Keys are made into XML names: characters not
//     allowed in names become '_', and a name that would not start with a
//     letter or '_', or would start with "xml" in any case, gets a '_'
//     prefix. The output is always well-formed XML.
//   - TEXT: the string itself when env.Data is a JSON string, otherwise the
//     JSON rendering.
func Render(format model.PayloadFormat, env Envelope) (body []byte, contentType string, err error) {
	data := []byte(env.Data)
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("null")
	}
	switch format {
	case model.PayloadFormatJSON:
		body, err = renderJSON(env, data)
		contentType = ContentTypeJSON
	case model.PayloadFormatXML:
		body, err = renderXML(env, data)
		contentType = ContentTypeXML
	case model.PayloadFormatText:
		body, err = renderText(env, data)
		contentType = ContentTypeText
	default:
		return nil, "", fmt.Errorf("unknown payload format %q", format)
	}
	if err != nil {
		return nil, "", err
	}
	return body, contentType, nil
}

func renderJSON(env Envelope, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(`{"id":"","type":"","timestamp":"","data":}`) + len(env.ID) + len(env.Type) + len(time.RFC3339Nano) + len(data))
	b := buf.AvailableBuffer()
	b = append(b, `{"id":`...)
	b = appendJSONString(b, env.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, env.Type)
	b = append(b, `,"timestamp":"`...)
	b = env.Timestamp.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	buf.Write(b)
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func renderText(env Envelope, data []byte) ([]byte, error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		return []byte(s), nil
	}
	return renderJSON(env, data)
}

// appendJSONString appends s to dst as a JSON string. Invalid UTF-8 becomes
// U+FFFD; U+2028 and U+2029 are escaped so the output is also valid JavaScript.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func renderXML(env Envelope, data []byte) ([]byte, error) {
	// Validate first: the token loop below trusts the structure, and json.Valid
	// also bounds the nesting depth, and with it the recursion.
	if !json.Valid(data) {
		var v json.RawMessage
		err := json.Unmarshal(data, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, fmt.Errorf("data: %w", err)
	}

	var buf bytes.Buffer
	buf.Grow(len(xml.Header) + 128 + 2*len(data))
	buf.WriteString(xml.Header)
	buf.WriteString("<event><id>")
	escapeText(&buf, env.ID)
	buf.WriteString("</id><type>")
	escapeText(&buf, env.Type)
	buf.WriteString("</type><timestamp>")
	buf.Write(env.Timestamp.UTC().AppendFormat(buf.AvailableBuffer(), time.RFC3339Nano))
	buf.WriteString("</timestamp><data>")

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	x := xmlWriter{buf: &buf, dec: dec}
	tok, err := dec.Token()
	if err == nil {
		err = x.content(tok)
	}
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}

	buf.WriteString("</data></event>")
	return buf.Bytes(), nil
}

// xmlWriter converts a stream of JSON tokens into XML.
type xmlWriter struct {
	buf *bytes.Buffer
	dec *json.Decoder
	txt []byte // scratch space for escaping strings
}

// content writes the content of an element whose JSON value starts with tok.
func (x *xmlWriter) content(tok json.Token) error {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for x.dec.More() {
				key, err := x.dec.Token()
				if err != nil {
					return err
				}
				k, _ := key.(string)
				if err := x.member(xmlName(k)); err != nil {
					return err
				}
			}
		case '[':
			for x.dec.More() {
				if err := x.element("item"); err != nil {
					return err
				}
			}
		}
		_, err := x.dec.Token() // the closing delimiter
		return err
	case string:
		x.txt = append(x.txt[:0], t...)
		_ = xml.EscapeText(x.buf, x.txt) // writes to a bytes.Buffer never fail
	case json.Number:
		x.buf.WriteString(string(t))
	case bool:
		if t {
			x.buf.WriteString("true")
		} else {
			x.buf.WriteString("false")
		}
	case nil:
	}
	return nil
}

// member writes an object member named name: one element, or one element per
// item when its value is an array.
func (x *xmlWriter) member(name string) error {
	tok, err := x.dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return x.wrap(name, tok)
	}
	for x.dec.More() {
		if err := x.element(name); err != nil {
			return err
		}
	}
	_, err = x.dec.Token() // ']'
	return err
}

// element writes the next JSON value as one element named name.
func (x *xmlWriter) element(name string) error {
	tok, err := x.dec.Token()
	if err != nil {
		return err
	}
	return x.wrap(name, tok)
}

func (x *xmlWriter) wrap(name string, tok json.Token) error {
	x.buf.WriteByte('<')
	x.buf.WriteString(name)
	x.buf.WriteByte('>')
	if err := x.content(tok); err != nil {
		return err
	}
	x.buf.WriteString("</")
	x.buf.WriteString(name)
	x.buf.WriteByte('>')
	return nil
}

func escapeText(w io.Writer, s string) {
	_ = xml.EscapeText(w, []byte(s))
}

// xmlName turns a JSON object key into an XML element name. Characters not
// allowed in names become '_'; a name that does not start with a letter or '_',
// or that starts with "xml" in any case (reserved by XML), gets a '_' prefix;
// the empty key becomes "_". Colons are replaced too, so keys never introduce
// namespace prefixes.
//
// Non-ASCII characters are kept when encoding/xml accepts them, which follows
// the name characters of XML 1.0 fourth edition, a subset of those of later
// editions; the result is therefore a name every XML 1.0 parser accepts.
func xmlName(key string) string {
	if key == "" {
		return "_"
	}
	if isPlainXMLName(key) {
		return key
	}

	b := make([]byte, 0, len(key)+1)
	for _, r := range key {
		switch {
		case r < utf8.RuneSelf && isASCIINameByte(byte(r)):
			b = append(b, byte(r))
		case r >= utf8.RuneSelf && nameRuneClass(r)&(nameStart|nameRest) != 0:
			b = utf8.AppendRune(b, r)
		default:
			b = append(b, '_')
		}
	}

	first, _ := utf8.DecodeRune(b)
	startsOK := first == '_' || isASCIILetter(first) || first >= utf8.RuneSelf && nameRuneClass(first)&nameStart != 0
	if !startsOK || hasXMLPrefix(b) {
		b = append(b, 0)
		copy(b[1:], b)
		b[0] = '_'
	}
	return string(b)
}

// isPlainXMLName reports whether s is an ASCII XML name that xmlName keeps
// as it is.
func isPlainXMLName(s string) bool {
	if !(s[0] == '_' || isASCIILetter(rune(s[0]))) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || !isASCIINameByte(s[i]) {
			return false
		}
	}
	return !hasXMLPrefix(s)
}

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

func isASCIINameByte(c byte) bool {
	return isASCIILetter(rune(c)) || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

func hasXMLPrefix[S ~string | ~[]byte](b S) bool {
	return len(b) >= 3 && (b[0]|0x20) == 'x' && (b[1]|0x20) == 'm' && (b[2]|0x20) == 'l'
}

// Bits of nameRuneClass.
const (
	nameKnown uint32 = 1 << iota
	nameStart        // allowed as the first character of a name
	nameRest         // allowed after the first character
)

// nameClasses caches nameRuneClass for the Basic Multilingual Plane, four
// bits per rune. encoding/xml allows no name characters beyond it.
var nameClasses [(0xFFFF + 1) / 8]atomic.Uint32

// nameRuneClass reports whether encoding/xml accepts the non-ASCII rune r at
// the start of an element name and after it. Rather than copying the
// decoder's character tables, it asks the decoder once per rune and caches
// the answer. It is safe for concurrent use.
func nameRuneClass(r rune) uint32 {
	if r < 0 || r > 0xFFFF {
		return nameKnown
	}
	word, shift := &nameClasses[r/8], uint(r%8)*4
	if c := word.Load() >> shift & 0xf; c&nameKnown != 0 {
		return c
	}
	c := nameKnown
	if decodesAsName("", r) {
		c |= nameStart
	}
	if decodesAsName("a", r) {
		c |= nameRest
	}
	word.Or(c << shift)
	return c
}

// decodesAsName reports whether encoding/xml parses <prefix r/> as an element.
func decodesAsName(prefix string, r rune) bool {
	var doc [16]byte
	b := append(doc[:0], '<')
	b = append(b, prefix...)
	b = utf8.AppendRune(b, r)
	b = append(b, "/>"...)
	_, err := xml.NewDecoder(bytes.NewReader(b)).Token()
	return err == nil
}
