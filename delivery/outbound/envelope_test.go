package outbound

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
)

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*60*60))

const testTimeUTC = "2024-05-06T05:08:09.123456789Z"

func testEnvelope(data string) Envelope {
	return Envelope{ID: "evt_1", Type: "order.paid", Timestamp: testTime, Data: json.RawMessage(data)}
}

// checkWellFormedXML parses doc with encoding/xml to its end and reports the
// first syntax error, or an error when doc does not have exactly one root
// element named event.
func checkWellFormedXML(tb testing.TB, doc []byte) error {
	tb.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if t.Name.Local != "event" || t.Name.Space != "" {
					return fmt.Errorf("root element %v; want event", t.Name)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("text %q outside the root element", t)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("%d root elements; want 1", roots)
	}
	return nil
}

func TestRender_JSON(t *testing.T) {
	tests := []struct {
		name string
		env  Envelope
		want string
	}{
		{
			name: "Object",
			env:  testEnvelope(`{"b": 1, "a": [true, null, "x"]}`),
			want: `{"id":"evt_1","type":"order.paid","timestamp":"` + testTimeUTC + `","data":{"b":1,"a":[true,null,"x"]}}`,
		},
		{
			name: "NumbersKeepTheirText",
			env:  testEnvelope(`{"big": 12345678901234567890123, "f": 1.50, "e": 1E+400}`),
			want: `{"id":"evt_1","type":"order.paid","timestamp":"` + testTimeUTC + `","data":{"big":12345678901234567890123,"f":1.50,"e":1E+400}}`,
		},
		{
			name: "StringsInDataUntouched",
			env:  testEnvelope(` "<a&b> \u00e9 é \n" `),
			want: `{"id":"evt_1","type":"order.paid","timestamp":"` + testTimeUTC + `","data":"<a&b> \u00e9 é \n"}`,
		},
		{
			name: "EmptyDataIsNull",
			env:  testEnvelope(""),
			want: `{"id":"evt_1","type":"order.paid","timestamp":"` + testTimeUTC + `","data":null}`,
		},
		{
			name: "ZeroTime",
			env:  Envelope{ID: "a", Type: "b", Data: json.RawMessage(`1`)},
			want: `{"id":"a","type":"b","timestamp":"0001-01-01T00:00:00Z","data":1}`,
		},
		{
			name: "EscapedIDAndType",
			env:  Envelope{ID: "q\"b\\s/\n\r\t\x00\x1f", Type: "<tag>&\u2028\u2029日本🚀\xff", Timestamp: time.Unix(0, 0), Data: json.RawMessage(`{}`)},
			want: `{"id":"q\"b\\s/\n\r\t\u0000\u001f","type":"<tag>&\u2028\u2029日本🚀\ufffd","timestamp":"1970-01-01T00:00:00Z","data":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct, err := Render(model.PayloadFormatJSON, tt.env)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if ct != "application/json" {
				t.Errorf("content type = %q; want application/json", ct)
			}
			if string(body) != tt.want {
				t.Errorf("Render =\n%s\nwant\n%s", body, tt.want)
			}
			if !json.Valid(body) {
				t.Errorf("Render produced invalid JSON: %s", body)
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	inputs := []string{"", "plain", "\"\\", "\x00\x01\x07\x08\x0b\x0c\x1f\x7f", "é日本🚀", "\u2028\u2029", "a\xffb\xc3", "</script>"}
	for _, in := range inputs {
		got := appendJSONString(nil, in)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not a JSON string: %v", in, got, err)
			continue
		}
		if want := strings.ToValidUTF8(in, "\uFFFD"); back != want {
			t.Errorf("appendJSONString(%q) decodes to %q; want %q", in, back, want)
		}
	}
}

func TestRender_XML(t *testing.T) {
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<event><id>evt_1</id><type>order.paid</type><timestamp>` + testTimeUTC + `</timestamp><data>`
	const tail = `</data></event>`
	tests := []struct {
		name string
		data string
		want string // between <data> and </data>
	}{
		{"Object", `{"b":1,"a":"x"}`, `<b>1</b><a>x</a>`},
		{"KeyOrderKept", `{"z":1,"a":2,"m":3}`, `<z>1</z><a>2</a><m>3</m>`},
		{"Scalars", `{"t":true,"f":false,"n":null,"s":""}`, `<t>true</t><f>false</f><n></n><s></s>`},
		{"NumbersKeepTheirText", `{"a":1.50,"b":1E+400,"c":-0,"d":12345678901234567890123}`, `<a>1.50</a><b>1E+400</b><c>-0</c><d>12345678901234567890123</d>`},
		{"ArrayMemberRepeats", `{"items":[1,2]}`, `<items>1</items><items>2</items>`},
		{"ArrayOfObjects", `{"line":[{"sku":"a"},{"sku":"b"}]}`, `<line><sku>a</sku></line><line><sku>b</sku></line>`},
		{"EmptyArrayMember", `{"a":[],"b":1}`, `<b>1</b>`},
		{"EmptyObject", `{"a":{}}`, `<a></a>`},
		{"NestedArrays", `{"m":[[1,2],[],[3]]}`, `<m><item>1</item><item>2</item></m><m></m><m><item>3</item></m>`},
		{"TopLevelArray", `[1,{"a":null},[true]]`, `<item>1</item><item><a></a></item><item><item>true</item></item>`},
		{"TopLevelString", `"a < b & c > \"d\" 'e'"`, `a &lt; b &amp; c &gt; &#34;d&#34; &#39;e&#39;`},
		{"TopLevelNull", `null`, ``},
		{"EmptyData", ``, ``},
		{"Whitespace", " \n{ \"a\" : [ 1 , 2 ] }\n", `<a>1</a><a>2</a>`},
		{"Unicode", `{"name":"Zoë 日本 🚀","größe":"\u00e9"}`, `<name>Zoë 日本 🚀</name><größe>é</größe>`},
		{"ControlCharacters", `{"s":"a\u0000b\u001fc\td\ne"}`, "<s>a\uFFFDb\uFFFDc&#x9;d&#xA;e</s>"},
		{"DuplicateKeys", `{"a":1,"a":2}`, `<a>1</a><a>2</a>`},
		{"UnusualKeys", `{"":1,"1st":2,"a b":3,"a:b":4,"xmlns":5,"XmlData":6,"-x":7,".y":8,"ok-_.9":9,"<&>":10}`,
			`<_>1</_><_1st>2</_1st><a_b>3</a_b><a_b>4</a_b><_xmlns>5</_xmlns><_XmlData>6</_XmlData><_-x>7</_-x><_.y>8</_.y><ok-_.9>9</ok-_.9><___>10</___>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct, err := Render(model.PayloadFormatXML, testEnvelope(tt.data))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if ct != "application/xml" {
				t.Errorf("content type = %q; want application/xml", ct)
			}
			if want := head + tt.want + tail; string(body) != want {
				t.Errorf("Render =\n%s\nwant\n%s", body, want)
			}
			if err := checkWellFormedXML(t, body); err != nil {
				t.Errorf("Render produced malformed XML: %v\n%s", err, body)
			}
		})
	}
}

func TestRender_XMLEscapesEnvelope(t *testing.T) {
	env := Envelope{ID: "</id><x>", Type: "a&b\x00\xff", Timestamp: testTime, Data: json.RawMessage(`1`)}
	body, _, err := Render(model.PayloadFormatXML, env)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if err := checkWellFormedXML(t, body); err != nil {
		t.Fatalf("Render produced malformed XML: %v\n%s", err, body)
	}
	var got struct {
		ID   string `xml:"id"`
		Type string `xml:"type"`
	}
	if err := xml.Unmarshal(body, &got); err != nil {
		t.Fatalf("xml.Unmarshal: %v", err)
	}
	if got.ID != env.ID {
		t.Errorf("id = %q; want %q", got.ID, env.ID)
	}
	if want := "a&b\uFFFD\uFFFD"; got.Type != want {
		t.Errorf("type = %q; want %q", got.Type, want)
	}
}

func TestXMLName(t *testing.T) {
	tests := []struct{ key, want string }{
		{"", "_"},
		{"a", "a"},
		{"_", "_"},
		{"camelCase", "camelCase"},
		{"snake_case-with.dots9", "snake_case-with.dots9"},
		{"9", "_9"},
		{"-", "_-"},
		{".", "_."},
		{"xml", "_xml"},
		{"XML", "_XML"},
		{"xMl-thing", "_xMl-thing"},
		{"xm", "xm"},
		{"axml", "axml"},
		{"a b", "a_b"},
		{"ns:local", "ns_local"},
		{":", "_"},
		{"a\"b'c<d>e&f", "a_b_c_d_e_f"},
		{" ", "_"},
		{"größe", "größe"},
		{"日本", "日本"},
		{"éa", "éa"},
		{"🚀", "_"},     // outside the Basic Multilingual Plane
		{"a🚀b", "a_b"}, // likewise
		{"\u0300a", "_\u0300a"},
		{"a\u0300", "a\u0300"},
		{"\u00b7", "_\u00b7"},
		{"\uFFFD", "_"},
		{"\u2028", "_"},
		{"1xml", "_1xml"},
		{"_xml", "_xml"},
	}
	for _, tt := range tests {
		if got := xmlName(tt.key); got != tt.want {
			t.Errorf("xmlName(%q) = %q; want %q", tt.key, got, tt.want)
		}
		if err := checkWellFormedXML(t, []byte("<event><"+xmlName(tt.key)+"/></event>")); err != nil {
			t.Errorf("xmlName(%q) = %q: not accepted by encoding/xml: %v", tt.key, xmlName(tt.key), err)
		}
	}
}

func TestRender_XMLDeepNesting(t *testing.T) {
	const depth = 5000
	tests := []struct {
		name string
		data string
	}{
		{"Objects", strings.Repeat(`{"a":`, depth) + `1` + strings.Repeat(`}`, depth)},
		{"Arrays", strings.Repeat(`[`, depth) + `1` + strings.Repeat(`]`, depth)},
		{"Mixed", strings.Repeat(`{"a":[`, depth/2) + `null` + strings.Repeat(`]}`, depth/2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := Render(model.PayloadFormatXML, testEnvelope(tt.data))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if err := checkWellFormedXML(t, body); err != nil {
				t.Fatalf("Render produced malformed XML: %v", err)
			}
		})
	}

	t.Run("ErrTooDeep", func(t *testing.T) {
		// encoding/json refuses nesting deeper than 10000.
		data := strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001)
		if _, _, err := Render(model.PayloadFormatXML, testEnvelope(data)); err == nil {
			t.Errorf("Render with nesting depth 10001 = nil error; want an error")
		}
	})
}

func TestRender_Text(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"String", `"hello, world"`, "hello, world"},
		{"StringEscapes", ` "line1\nline2 \u00e9 \"q\" 🚀" `, "line1\nline2 é \"q\" 🚀"},
		{"EmptyString", `""`, ""},
		{"Object", `{"a": 1}`, `{"id":"evt_1","type":"order.paid","timestamp":"` + testTimeUTC + `","data":{"a":1}}`},
		{"Number", `42`, `{"id":"evt_1","type":"order.paid","timestamp":"` + testTimeUTC + `","data":42}`},
		{"Empty", ``, `{"id":"evt_1","type":"order.paid","timestamp":"` + testTimeUTC + `","data":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct, err := Render(model.PayloadFormatText, testEnvelope(tt.data))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if ct != "text/plain; charset=utf-8" {
				t.Errorf("content type = %q; want text/plain; charset=utf-8", ct)
			}
			if string(body) != tt.want {
				t.Errorf("Render = %q; want %q", body, tt.want)
			}
		})
	}
}

func TestRender_Errors(t *testing.T) {
	tests := []struct {
		name   string
		format model.PayloadFormat
		data   string
	}{
		{"ErrUnknownFormat", "YAML", `{}`},
		{"ErrEmptyFormat", "", `{}`},
		{"ErrJSONInvalid", model.PayloadFormatJSON, `{"a":}`},
		{"ErrJSONTrailingData", model.PayloadFormatJSON, `1 2`},
		{"ErrXMLInvalid", model.PayloadFormatXML, `{"a":1`},
		{"ErrXMLTrailingData", model.PayloadFormatXML, `{} {}`},
		{"ErrTextInvalidString", model.PayloadFormatText, `"abc`},
		{"ErrTextStringWithTrailingData", model.PayloadFormatText, `"abc" 1`},
		{"ErrTextInvalid", model.PayloadFormatText, `{`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct, err := Render(tt.format, testEnvelope(tt.data))
			if err == nil {
				t.Errorf("Render(%q, %q) = %q, %q, nil; want an error", tt.format, tt.data, body, ct)
			}
		})
	}
}

func FuzzRenderXML(f *testing.F) {
	seeds := []string{
		`{"a":1}`, `[1,[2,[3]]]`, `"text"`, `null`, `true`, `1e999`, ``,
		`{"":{"1":[{"xml":null}]}}`, `{"a b":"<&>","ü":"é","🚀":"\u0000"}`,
		`{"items":[],"x":[[],[[]]],"y":{}}`, `{"a":"\ud800"}`, "{\"\xff\":\"\xfe\"}",
		`{"ns:a":1,":":2,"-":3,".":4,"\u0300":5,"\u00b7x":6}`, `{"a":`, `[`, `}`,
	}
	for _, s := range seeds {
		f.Add("evt_1", "order.paid", []byte(s))
	}
	f.Add("</id>", "\x00\xff&", []byte(`{}`))
	f.Fuzz(func(t *testing.T, id, typ string, data []byte) {
		env := Envelope{ID: id, Type: typ, Timestamp: testTime, Data: data}
		body, _, err := Render(model.PayloadFormatXML, env)
		if err != nil {
			if len(bytes.TrimSpace(data)) != 0 && !json.Valid(data) {
				return // invalid JSON is the only reason to fail
			}
			t.Fatalf("Render(%q) = %v; want no error for valid JSON", data, err)
		}
		if err := checkWellFormedXML(t, body); err != nil {
			t.Fatalf("Render(%q) produced malformed XML: %v\n%s", data, err, body)
		}
	})
}

// benchPayload is a typical event payload of about 1 KiB.
var benchPayload = json.RawMessage(`{
  "order": {"id": "ord_01HZX3Q5J8K2M4N6P8R0T2V4X6", "status": "paid", "currency": "EUR",
    "total": 129.95, "created_at": "2024-05-06T07:08:09Z", "gift": false, "coupon": null,
    "customer": {"id": "cus_9f8e7d6c", "name": "Zoë Müller", "email": "zoe@example.com",
      "address": {"line1": "Hauptstraße 1", "city": "Berlin", "postcode": "10115", "country": "DE"}},
    "items": [
      {"sku": "SKU-0001", "name": "Coffee beans, 1 kg", "quantity": 2, "unit_price": 24.50, "tags": ["food", "coffee"]},
      {"sku": "SKU-0002", "name": "Grinder <manual> & burr", "quantity": 1, "unit_price": 59.95, "tags": ["tools"]},
      {"sku": "SKU-0003", "name": "Filter papers", "quantity": 4, "unit_price": 5.25, "tags": []}
    ],
    "shipping": {"method": "express", "price": 9.95, "tracking": "1Z999AA10123456784"},
    "notes": "Leave at the door, please. Ring twice; the bell is quiet."
  },
  "metadata": {"source": "web", "campaign": "spring-sale", "ab_bucket": 7}
}`)

func BenchmarkRenderJSON(b *testing.B) {
	env := testEnvelope(string(benchPayload))
	b.SetBytes(int64(len(env.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Render(model.PayloadFormatJSON, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderXML(b *testing.B) {
	env := testEnvelope(string(benchPayload))
	b.SetBytes(int64(len(env.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Render(model.PayloadFormatXML, env); err != nil {
			b.Fatal(err)
		}
	}
}
