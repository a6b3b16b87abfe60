package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// validWebhookInput returns a valid createWebhook input with over applied.
func validWebhookInput(over map[string]any) map[string]any {
	in := map[string]any{"url": "https://example.com/hooks", "events": []string{"order.created"}}
	maps.Copy(in, over)
	return in
}

// secretOfLen returns a Standard Webhooks secret encoding n bytes.
func secretOfLen(n int) string {
	return model.SecretPrefix + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n)))
}

// manyEvents returns n distinct valid event type names.
func manyEvents(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("event.%d", i)
	}
	return out
}

// urlOfLen returns an https URL of exactly n bytes.
func urlOfLen(n int) string {
	const prefix = "https://example.com/"
	return prefix + strings.Repeat("a", n-len(prefix))
}

// jwtPart base64url-encodes s as one part of a JWT.
func jwtPart(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// oneHeader is a headers input with a single header.
func oneHeader(name, value string) []map[string]string {
	return []map[string]string{{"name": name, "value": value}}
}

const updateWebhookMutation = `mutation($id: ID!, $in: UpdateWebhookInput!) { updateWebhook(id: $id, input: $in) { ` + webhookFields + ` } }`

func TestWebhookValidation(t *testing.T) {
	long := strings.Repeat("x", 129)
	rejected := []struct {
		name  string
		input map[string]any // overrides of a valid input; also the update input unless it sets "secret"
		field string
	}{
		{"ErrURLNotHTTP/ftp", map[string]any{"url": "ftp://example.com/hooks"}, "url"},
		{"ErrURLNotHTTP/mailto", map[string]any{"url": "mailto:ops@example.com"}, "url"},
		{"ErrURLNotAbsolute/relative", map[string]any{"url": "/hooks"}, "url"},
		{"ErrURLNotAbsolute/noScheme", map[string]any{"url": "example.com/hooks"}, "url"},
		{"ErrURLNoHost", map[string]any{"url": "http://"}, "url"},
		{"ErrURLNoHost/portOnly", map[string]any{"url": "https://:443/hooks"}, "url"},
		{"ErrURLCredentials", map[string]any{"url": "https://u:p@x.com"}, "url"},
		{"ErrURLCredentials/userOnly", map[string]any{"url": "https://u@x.com"}, "url"},
		{"ErrURLTooLong", map[string]any{"url": urlOfLen(model.MaxURLBytes + 1)}, "url"},
		{"ErrURLControlCharacter", map[string]any{"url": "https://example.com/a\nb"}, "url"},
		{"ErrURLSpaceInQuery", map[string]any{"url": "http://example.com/h? x"}, "url"},
		{"ErrURLPort/0", map[string]any{"url": "https://example.com:0/hooks"}, "url"},
		{"ErrURLPort/65536", map[string]any{"url": "https://example.com:65536/hooks"}, "url"},
		{"ErrURLPort/99999999999", map[string]any{"url": "https://example.com:99999999999/hooks"}, "url"},
		{"ErrEventsEmpty", map[string]any{"events": []string{}}, "events"},
		{"ErrEventName/leadingDash", map[string]any{"events": []string{"-bad"}}, "events"},
		{"ErrEventName/space", map[string]any{"events": []string{"a b"}}, "events"},
		{"ErrEventName/empty", map[string]any{"events": []string{"order.created", ""}}, "events"},
		{"ErrEventName/129Chars", map[string]any{"events": []string{long}}, "events"},
		{"ErrEventsTooMany", map[string]any{"events": manyEvents(model.MaxEvents + 1)}, "events"},
		{"ErrFiltersNotObject/array", map[string]any{"filters": []any{"awb"}}, "filters"},
		{"ErrFiltersNotObject/string", map[string]any{"filters": "awb"}, "filters"},
		{"ErrFiltersNotObject/number", map[string]any{"filters": 42}, "filters"},
		{"ErrFiltersValueNotArray", map[string]any{"filters": map[string]any{"awb": "125"}}, "filters"},
		{"ErrFiltersArrayOfObjects", map[string]any{"filters": map[string]any{"awb": []any{map[string]any{"a": 1}}}}, "filters"},
		{"ErrFiltersArrayWithNull", map[string]any{"filters": map[string]any{"awb": []any{nil}}}, "filters"},
		{"ErrFiltersEmptyArray", map[string]any{"filters": map[string]any{"awb": []any{}}}, "filters"},
		{"ErrFiltersKeyNotDottedPath", map[string]any{"filters": map[string]any{"a..b": []any{"1"}}}, "filters"},
		{"ErrHeaderName/space", map[string]any{"headers": oneHeader("Bad Header", "v")}, "headers"},
		{"ErrHeaderName/colon", map[string]any{"headers": oneHeader("x:y", "v")}, "headers"},
		{"ErrHeaderName/empty", map[string]any{"headers": oneHeader("", "v")}, "headers"},
		{"ErrHeaderReserved/Host", map[string]any{"headers": oneHeader("Host", "evil.example")}, "headers"},
		{"ErrHeaderReserved/Content-Length", map[string]any{"headers": oneHeader("Content-Length", "1")}, "headers"},
		{"ErrHeaderReserved/Content-Type", map[string]any{"headers": oneHeader("Content-Type", "text/plain")}, "headers"},
		{"ErrHeaderReserved/webhook-id", map[string]any{"headers": oneHeader("webhook-id", "msg_1")}, "headers"},
		{"ErrHeaderReserved/Webhook-Signature", map[string]any{"headers": oneHeader("Webhook-Signature", "v1,x")}, "headers"},
		{"ErrHeaderReserved/WEBHOOK-SIGNATURE", map[string]any{"headers": oneHeader("WEBHOOK-SIGNATURE", "v1,x")}, "headers"},
		{"ErrHeaderReserved/wEbHoOk-TiMeStAmP", map[string]any{"headers": oneHeader("wEbHoOk-TiMeStAmP", "1")}, "headers"},
		{"ErrHeaderReserved/AuthorizationWithBearerToken", map[string]any{"headers": oneHeader("Authorization", "Basic eA=="), "bearerToken": testJWT}, "headers"},
		{"ErrHeaderReserved/SharedTokenHeaderWithSharedToken", map[string]any{"headers": oneHeader("X-Webhook-Shared-Token", "a"), "sharedToken": "b"}, "headers"},
		{"ErrHeaderValue/newline", map[string]any{"headers": oneHeader("X-Team", "blue\nX-Injected: 1")}, "headers"},
		{"ErrHeaderValue/carriageReturn", map[string]any{"headers": oneHeader("X-Team", "blue\r")}, "headers"},
		{"ErrHeaderValue/emptyUserAgent", map[string]any{"headers": oneHeader("User-Agent", "")}, "headers"},
		{"ErrSecret/noPrefix", map[string]any{"secret": base64.StdEncoding.EncodeToString(make([]byte, 32))}, "secret"},
		{"ErrSecret/badBase64", map[string]any{"secret": "whsec_not*base64!"}, "secret"},
		{"ErrSecret/16Bytes", map[string]any{"secret": secretOfLen(16)}, "secret"},
		{"ErrSecret/65Bytes", map[string]any{"secret": secretOfLen(65)}, "secret"},
		{"ErrSecret/lineBreak", map[string]any{"secret": secretOfLen(32)[:20] + "\r\n" + secretOfLen(32)[20:]}, "secret"},
		{"ErrBearerToken/onePart", map[string]any{"bearerToken": "abc"}, "bearerToken"},
		{"ErrBearerToken/twoParts", map[string]any{"bearerToken": "a.b"}, "bearerToken"},
		{"ErrBearerToken/notBase64URLJSON", map[string]any{"bearerToken": "a.b.c"}, "bearerToken"},
		{"ErrBearerToken/payloadNotObject", map[string]any{"bearerToken": jwtPart(`{"alg":"none"}`) + "." + jwtPart(`[1]`) + ".c2ln"}, "bearerToken"},
		{"ErrDescriptionTooLong", map[string]any{"description": strings.Repeat("d", model.MaxDescriptionRunes+1)}, "description"},
		{"ErrDescriptionTooLong/multiByte", map[string]any{"description": strings.Repeat("é", model.MaxDescriptionRunes+1)}, "description"},
		{"ErrDescriptionNUL", map[string]any{"description": "orders\x00feed"}, "description"},
		{"ErrDescriptionEscape", map[string]any{"description": "\x1b[2Jorders"}, "description"},
	}

	longEvent := "a" + strings.Repeat("b", 127)
	multiByte := strings.Repeat("🪝", model.MaxDescriptionRunes) // 4000 bytes
	accepted := []struct {
		name  string
		input map[string]any
		check func(t *testing.T, w webhookJSON)
	}{
		{"OK/URL2048Bytes", map[string]any{"url": urlOfLen(model.MaxURLBytes)}, func(t *testing.T, w webhookJSON) {
			if w.URL != urlOfLen(model.MaxURLBytes) {
				t.Errorf("url has %d bytes; want the 2048 given", len(w.URL))
			}
		}},
		{"OK/HTTP", map[string]any{"url": "http://example.com:8080/h?x=1"}, func(t *testing.T, w webhookJSON) {
			if w.URL != "http://example.com:8080/h?x=1" {
				t.Errorf("url = %q; want http://example.com:8080/h?x=1", w.URL)
			}
		}},
		{"OK/Port65535", map[string]any{"url": "https://example.com:65535/h"}, func(t *testing.T, w webhookJSON) {
			if w.URL != "https://example.com:65535/h" {
				t.Errorf("url = %q", w.URL)
			}
		}},
		{"OK/DescriptionLines", map[string]any{"description": "orders\n\tfrom FRA\r\n"}, func(t *testing.T, w webhookJSON) {
			if w.Description != "orders\n\tfrom FRA\r\n" {
				t.Errorf("description = %q", w.Description)
			}
		}},
		{"OK/EventName128Chars", map[string]any{"events": []string{longEvent, "*", "a:b_c-d.e"}}, func(t *testing.T, w webhookJSON) {
			if got, want := w.Events, []string{longEvent, "*", "a:b_c-d.e"}; !reflect.DeepEqual(got, want) {
				t.Errorf("events = %q; want %q", got, want)
			}
		}},
		{"OK/100Events", map[string]any{"events": manyEvents(model.MaxEvents)}, func(t *testing.T, w webhookJSON) {
			if !reflect.DeepEqual(w.Events, manyEvents(model.MaxEvents)) {
				t.Errorf("got %d events; want the %d given in order", len(w.Events), model.MaxEvents)
			}
		}},
		{"OK/FiltersScalars", map[string]any{"filters": map[string]any{"awb": []any{"125", 7, true}, "shipment.dc": []any{"x"}}}, func(t *testing.T, w webhookJSON) {
			var f map[string][]any
			if err := json.Unmarshal(w.Filters, &f); err != nil || len(f["awb"]) != 3 || len(f["shipment.dc"]) != 1 {
				t.Errorf("filters = %s; want them as given", w.Filters)
			}
		}},
		{"OK/AuthorizationWithoutBearerToken", map[string]any{"headers": oneHeader("Authorization", "Basic dTpw")}, func(t *testing.T, w webhookJSON) {
			// Accepted, and secret: its value reads as null.
			if want := (model.Header{Name: "Authorization", Secret: true}); len(w.Headers) != 1 || w.Headers[0] != want {
				t.Errorf("headers = %+v; want [%+v]", w.Headers, want)
			}
		}},
		{"OK/Secret24Bytes", map[string]any{"secret": secretOfLen(24)}, nil},
		{"OK/Secret64Bytes", map[string]any{"secret": secretOfLen(64)}, nil},
		{"OK/Description1000MultiByteChars", map[string]any{"description": multiByte}, func(t *testing.T, w webhookJSON) {
			if w.Description != multiByte {
				t.Errorf("description has %d bytes; want the %d-byte description given", len(w.Description), len(multiByte))
			}
		}},
	}

	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		createMutation := `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { secret webhook { id } } }`

		for _, tc := range rejected {
			t.Run(tc.name, func(t *testing.T) {
				t.Run("Create", func(t *testing.T) {
					before := c.totalCount(t, "webhooks")
					resp := c.do(t, createMutation, map[string]any{"in": validWebhookInput(tc.input)})
					wantError(t, resp, model.CodeBadUserInput, tc.field)
					if got := c.totalCount(t, "webhooks"); got != before {
						t.Errorf("totalCount after rejected create = %d; want %d", got, before)
					}
				})
				if _, ok := tc.input["secret"]; ok {
					return // not part of UpdateWebhookInput
				}
				t.Run("Update", func(t *testing.T) {
					w, _ := c.createWebhook(t, validWebhookInput(nil))
					resp := c.do(t, updateWebhookMutation, map[string]any{"id": w.ID, "in": tc.input})
					wantError(t, resp, model.CodeBadUserInput, tc.field)
					if got := c.getWebhook(t, w.ID); !reflect.DeepEqual(got, w) {
						t.Errorf("webhook after rejected update = %+v; want unchanged %+v", got, w)
					}
				})
			})
		}

		for _, tc := range accepted {
			t.Run(tc.name, func(t *testing.T) {
				t.Run("Create", func(t *testing.T) {
					w, secret := c.createWebhook(t, validWebhookInput(tc.input))
					if want, ok := tc.input["secret"]; ok && secret != want {
						t.Errorf("secret = %q; want the one given, %q", secret, want)
					}
					if tc.check != nil {
						tc.check(t, w)
						tc.check(t, c.getWebhook(t, w.ID))
					}
				})
				if _, ok := tc.input["secret"]; ok {
					return
				}
				t.Run("Update", func(t *testing.T) {
					w, _ := c.createWebhook(t, validWebhookInput(nil))
					var out struct{ UpdateWebhook webhookJSON }
					c.mustDo(t, updateWebhookMutation, map[string]any{"id": w.ID, "in": tc.input}, &out)
					if tc.check != nil {
						tc.check(t, out.UpdateWebhook)
						tc.check(t, c.getWebhook(t, w.ID))
					}
				})
			})
		}

		t.Run("ErrUpdateURLLeavesWebhookUnchanged", func(t *testing.T) {
			w, _ := c.createWebhook(t, validWebhookInput(map[string]any{"description": "keep me"}))
			resp := c.do(t, updateWebhookMutation, map[string]any{"id": w.ID, "in": map[string]any{"url": "ftp://example.com", "description": "changed"}})
			wantError(t, resp, model.CodeBadUserInput, "url")
			got := c.getWebhook(t, w.ID)
			if got.URL != w.URL || got.Description != "keep me" || got.UpdatedAt != w.UpdatedAt {
				t.Errorf("after rejected update: url %q, description %q, updatedAt %s; want %q, %q, %s",
					got.URL, got.Description, got.UpdatedAt, w.URL, "keep me", w.UpdatedAt)
			}
		})

		t.Run("ErrUpdateAuthorizationHeaderWithExistingBearerToken", func(t *testing.T) {
			w, _ := c.createWebhook(t, validWebhookInput(map[string]any{"bearerToken": testJWT}))
			resp := c.do(t, updateWebhookMutation, map[string]any{"id": w.ID, "in": map[string]any{"headers": oneHeader("authorization", "Basic dTpw")}})
			wantError(t, resp, model.CodeBadUserInput, "headers")
			if got := c.getWebhook(t, w.ID); len(got.Headers) != 0 || !got.HasBearerToken {
				t.Errorf("after rejected update: headers %+v, hasBearerToken %v; want none, true", got.Headers, got.HasBearerToken)
			}
		})

		t.Run("ErrUpdateBearerTokenWithExistingAuthorizationHeader", func(t *testing.T) {
			w, _ := c.createWebhook(t, validWebhookInput(map[string]any{"headers": oneHeader("Authorization", "Basic dTpw")}))
			resp := c.do(t, updateWebhookMutation, map[string]any{"id": w.ID, "in": map[string]any{"bearerToken": testJWT}})
			wantError(t, resp, model.CodeBadUserInput, "")
			if got := c.getWebhook(t, w.ID); got.HasBearerToken {
				t.Errorf("after rejected update: hasBearerToken = true; want false")
			}
		})
	})
}

func TestGraphQLLimits(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	c := ts.admin

	// nested returns a query whose fields nest levels deep.
	nested := func(levels int) string {
		path := []string{"deliveries(first: 1)", "edges", "node"}
		inner := "id"
		for len(path)+1 < levels {
			path = append(path, "event", "deliveries(first: 1)", "edges", "node")
		}
		path = path[:levels-1]
		for i := len(path) - 1; i >= 0; i-- {
			inner = path[i] + " { " + inner + " }"
		}
		return "{ " + inner + " }"
	}
	t.Run("ErrDepth", func(t *testing.T) {
		e := wantError(t, c.do(t, nested(13), nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "13 levels") {
			t.Errorf("message %q does not say the query is too deep", e.Message)
		}
		c.mustDo(t, nested(12), nil, nil)
	})
	t.Run("ErrDepthThroughFragments", func(t *testing.T) {
		q := `fragment F on Event { deliveries(first: 1) { edges { node { event { deliveries(first: 1) { edges { node { event { id } } } } } } } } }
			{ deliveries(first: 1) { edges { node { event { ...F } } } } }`
		wantError(t, c.do(t, q, nil), model.CodeBadUserInput, "")
	})
	t.Run("ErrAliases", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 21 {
			fmt.Fprintf(&b, " a%d: me { id }", i)
		}
		b.WriteString(" }")
		e := wantError(t, c.do(t, b.String(), nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "root fields") {
			t.Errorf("message %q does not name the root field limit", e.Message)
		}
	})
	t.Run("ErrComplexity", func(t *testing.T) {
		q := `{ a: webhooks(first: 100) { edges { node { deliveries(first: 100) { edges { node { attempts { id } } } } } } } }`
		resp := c.do(t, q, nil)
		if len(resp.Errors) == 0 || !strings.Contains(strings.ToLower(resp.Errors[0].Message), "complexity") {
			t.Errorf("errors = %+v; want a complexity error", resp.Errors)
		}
	})
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("ErrBodyTooLarge/chunked=%t", chunked), func(t *testing.T) {
			body := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
			var r io.Reader = strings.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // no length known: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", r)
			req.Header.Set("Authorization", "Bearer "+c.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(raw, []byte(`"errors"`)) || !bytes.Contains(raw, []byte("too large")) {
				t.Errorf("1 MiB+ body: status %d, body %.200s; want 413 and a GraphQL error saying the body is too large", resp.StatusCode, raw)
			}
		})
	}
	t.Run("IntrospectionOnByDefault", func(t *testing.T) {
		c.mustDo(t, `{ __schema { queryType { name } } }`, nil, nil)
	})
}

func TestParserTokenLimit(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	q := "{ me { " + strings.Repeat("id ", 20000) + "} }"
	resp := ts.admin.do(t, q, nil)
	if len(resp.Errors) == 0 || !strings.Contains(strings.ToLower(resp.Errors[0].Message), "token") {
		t.Errorf("a 20,000-token query: errors %+v; want one naming the token limit", resp.Errors)
	}
}

func TestIntrospectionOff(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.Introspection = false
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	resp := ts.admin.do(t, `{ __schema { queryType { name } } }`, nil)
	if len(resp.Errors) == 0 {
		t.Errorf("introspection answered with HOOKLINE_INTROSPECTION=false: %s", resp.Data)
	}
}

func TestRateLimit(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.RatePerSecond, cfg.RateBurst = 1, 3
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	other := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	for range 3 {
		ts.admin.mustDo(t, `{ me { id } }`, nil, nil)
	}
	resp := ts.admin.do(t, `{ me { id } }`, nil)
	e := wantError(t, resp, model.CodeRateLimited, "")
	if resp.Status != http.StatusTooManyRequests {
		t.Errorf("status = %d; want 429", resp.Status)
	}
	if ms, ok := e.Extensions["retryAfterMs"].(float64); !ok || ms <= 0 || ms > 1000 {
		t.Errorf("retryAfterMs = %v; want a hint within a second", e.Extensions["retryAfterMs"])
	}
	// Another key has its own bucket.
	other.mustDo(t, `{ me { id } }`, nil, nil)
}

// TestRateLimitOverWebsocket: operations sent over a websocket take tokens
// from the key's bucket like HTTP requests do.
func TestRateLimitOverWebsocket(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.RatePerSecond, cfg.RateBurst = 0.01, 3
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dialWebsocket(ctx, ts.URL, protoTransportWS, map[string]string{"Authorization": "Bearer " + ts.admin.key})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	payload, _ := json.Marshal(map[string]any{"query": `{ me { id } }`})
	for i := 1; i <= 4; i++ {
		id := strconv.Itoa(i)
		if err := writeWS(ctx, conn, wsMessage{ID: id, Type: "subscribe", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := readWS(ctx, conn)
			if err != nil {
				t.Fatalf("operation %d: %v", i, err)
			}
			if m.ID != id || m.Type == "complete" {
				continue
			}
			limited := strings.Contains(string(m.Payload), model.CodeRateLimited)
			if want := i == 4; limited != want {
				t.Errorf("operation %d: %s %s; rate limited = %v, want %v", i, m.Type, m.Payload, limited, want)
			}
			break
		}
	}
}

func TestWebsocketsPerKeyCapped(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.MaxWebsocketsPerKey = 2
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	auth := map[string]string{"Authorization": "Bearer " + ts.admin.key}
	var open []*websocket.Conn
	for range 2 {
		conn, err := dialWebsocket(ctx, ts.URL, protoTransportWS, auth)
		if err != nil {
			t.Fatalf("connection within the cap: %v", err)
		}
		open = append(open, conn)
	}
	_, err := dialWebsocket(ctx, ts.URL, protoTransportWS, auth)
	if code := websocket.CloseStatus(err); code != 4429 {
		t.Errorf("third connection: %v (close status %d); want close code 4429", err, code)
	}
	// Another key is not affected, and a closed connection frees its slot.
	other := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	conn, err := dialWebsocket(ctx, ts.URL, protoTransportWS, map[string]string{"Authorization": "Bearer " + other.key})
	if err != nil {
		t.Fatalf("another key's connection: %v", err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
	open[0].Close(websocket.StatusNormalClosure, "")
	eventually(t, 5*time.Second, "the closed connection's slot to be free", func() bool {
		c, err := dialWebsocket(ctx, ts.URL, protoTransportWS, auth)
		if err == nil {
			c.Close(websocket.StatusNormalClosure, "")
		}
		return err == nil
	})
	open[1].Close(websocket.StatusNormalClosure, "")
}

// limitsProcess starts a hookline process on a new SQLite file and returns
// a client with its admin key.
func limitsProcess(t *testing.T) *client {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a hookline process: skipped with -short")
	}
	const adminKey = "limits-admin-key-0123456789"
	p := startProcess(t, "HOOKLINE_DATABASE_URL=sqlite://"+t.TempDir()+"/limits.db", "HOOKLINE_ADMIN_KEY="+adminKey)
	return p.client(adminKey)
}

// wantRefused asserts that resp is a BAD_USER_INPUT error naming field
// (unless empty) that no resolver answered: no data, no path.
func wantRefused(t *testing.T, resp gqlResponse, field string) gqlError {
	t.Helper()
	e := wantError(t, resp, model.CodeBadUserInput, field)
	if d := strings.TrimSpace(string(resp.Data)); (d != "" && d != "null") || len(e.Path) > 0 || len(resp.Errors) != 1 {
		t.Errorf("data %s, errors %+v; want the operation refused before any resolver ran", resp.Data, resp.Errors)
	}
	return e
}

// TestPageSizesCheckedBeforeCost: the cost of a page is its size times the
// cost of an item, and Int arguments hold 64 bits. A page of 2^58 − 1
// deliveries under 64 webhooks cost 3 × 2^64 + 1, which wrapped to 1 and
// ran. Page sizes out of range are refused before the cost is computed.
func TestPageSizesCheckedBeforeCost(t *testing.T) {
	c := limitsProcess(t)
	c.createWebhook(t, validWebhookInput(nil))
	const wraps = `{ webhooks(first: 64) { edges { node { deliveries(first: 288230376151711743) { edges { node { id } } } } } } }`
	e := wantRefused(t, c.do(t, wraps, nil), "first")
	if !strings.Contains(e.Message, "between 0 and 100") {
		t.Errorf("message %q does not give the range", e.Message)
	}
	const byVariable = `query($n: Int) { webhooks(first: 64) { edges { node { deliveries(first: $n) { edges { node { id } } } } } } }`
	wantRefused(t, c.do(t, byVariable, map[string]any{"n": int64(288230376151711743)}), "first")
	wantRefused(t, c.do(t, byVariable, map[string]any{"n": 101}), "first")
	wantRefused(t, c.do(t, `{ events(last: 9223372036854775807) { totalCount } }`, nil), "last")
	wantRefused(t, c.do(t, `{ deliveries(first: -1) { totalCount } }`, nil), "first")
	for _, last := range []int{0, 101} {
		wantRefused(t, c.do(t, `query($n: Int) { deliveries { edges { node { attempts(last: $n) { id } } } } }`, map[string]any{"n": last}), "last")
	}

	var out struct{ Webhooks connPage }
	c.mustDo(t, `{ webhooks(first: 100) { edges { node { id deliveries(first: 0) { totalCount } } } } }`, nil, &out)
	if len(out.Webhooks.Edges) != 1 {
		t.Errorf("webhooks(first: 100) gave %d webhooks; want 1", len(out.Webhooks.Edges))
	}
	c.mustDo(t, `{ deliveries(last: 100) { edges { node { attempts(last: 1) { id } } } } }`, nil, nil)
}

// TestFragmentsExpandingExponentially: fragments that spread the next one
// ten times each expand to 10^levels fields; computing their cost visited
// every one (twelve levels would take years). They are refused at once.
func TestFragmentsExpandingExponentially(t *testing.T) {
	c := limitsProcess(t)
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := range 12 {
		fmt.Fprintf(&b, "fragment F%d on Query { %s}\n", i, strings.Repeat(fmt.Sprintf("...F%d ", i+1), 10))
	}
	b.WriteString("fragment F12 on Query { me { id } }\n")
	e := wantRefused(t, doWithin(t, c, 10*time.Second, b.String()), "")
	if !strings.Contains(e.Message, "selections") {
		t.Errorf("message %q does not name the selection limit", e.Message)
	}
}

// doWithin is c.do for a query that must be answered within d.
func doWithin(t *testing.T, c *client, d time.Duration, query string) gqlResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer within %v: %v", d, err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	out.Status = resp.StatusCode
	return out
}

// aliased returns n copies of field, aliased a1 to a<n>.
func aliased(n int, field string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	return b.String()
}

// TestRootFieldsThroughFragments: the root field limit counted the
// selections written at the root, so one inline fragment or fragment
// spread holding 1,000 aliased fields ran them all. Fields count where
// they run, whatever fragments hold them.
func TestRootFieldsThroughFragments(t *testing.T) {
	c := limitsProcess(t)
	for name, q := range map[string]string{
		"InlineFragment":  `{ ... on Query {` + aliased(1000, "me { id }") + ` } }`,
		"NamedFragment":   `{ ...F } fragment F on Query {` + aliased(1000, "me { id }") + ` }`,
		"NestedFragments": `{ me { id } ...F } fragment F on Query { ... on Query { ...G } } fragment G on Query {` + aliased(20, "owner") + ` }`,
	} {
		t.Run("Err"+name, func(t *testing.T) {
			e := wantRefused(t, c.do(t, q, nil), "")
			if !strings.Contains(e.Message, "root fields; at most 20") {
				t.Errorf("message %q does not name the root field limit", e.Message)
			}
		})
	}
	t.Run("OK/20", func(t *testing.T) {
		var out map[string]any
		c.mustDo(t, `{ ...F ...F ... on Query { a1: me { id } } } fragment F on Query {`+aliased(20, "me { id }")+` }`, nil, &out)
		if len(out) != 20 {
			t.Errorf("got %d root fields; want 20", len(out))
		}
	})
}

// TestPublishingFieldsPerRequest: 25 aliased publishEvents of 4 events
// each, inside a fragment, created 100 events in one request. At most 5
// publishing fields run in one request, fragments included; more are
// refused before any runs.
func TestPublishingFieldsPerRequest(t *testing.T) {
	c := limitsProcess(t)
	const publish4 = `publishEvents(inputs: [{type: "a", payload: {}}, {type: "a", payload: {}}, {type: "a", payload: {}}, {type: "a", payload: {}}]) { id }`
	t.Run("Err25InFragment", func(t *testing.T) {
		e := wantRefused(t, c.do(t, `mutation { ...P } fragment P on Mutation {`+aliased(25, publish4)+` }`, nil), "")
		if !strings.Contains(e.Message, "25 root fields") {
			t.Errorf("message %q does not name the root field limit", e.Message)
		}
	})
	t.Run("Err6InFragment", func(t *testing.T) {
		q := `mutation { p: publishEvent(input: {type: "a", payload: {}}) { id } ...P } fragment P on Mutation {` + aliased(5, publish4) + ` }`
		e := wantRefused(t, c.do(t, q, nil), "")
		if !strings.Contains(e.Message, "6 publishing fields") || !strings.Contains(e.Message, "at most 5") {
			t.Errorf("message %q does not name the publishing field limit", e.Message)
		}
	})
	if n := c.totalCount(t, "events"); n != 0 {
		t.Fatalf("%d events after refused requests; want none", n)
	}
	t.Run("OK/5", func(t *testing.T) {
		var out map[string][]struct{ ID string }
		c.mustDo(t, `mutation { ...P ...P } fragment P on Mutation {`+aliased(5, publish4)+` }`, nil, &out)
		if len(out) != 5 {
			t.Errorf("got %d publishing fields; want 5", len(out))
		}
		if n := c.totalCount(t, "events"); n != 20 {
			t.Errorf("%d events; want 20", n)
		}
	})
}

// TestLargePayloadsListed: a payload, an attempt's body or headers hold up
// to a request body's size, so events(first: 100) { payload } over 1 MiB
// payloads answered 100 MiB. Such fields are priced by the most they can
// hold, and once those of one response hold over 8 MiB the rest are
// answered with TOO_LARGE.
func TestLargePayloadsListed(t *testing.T) {
	c := limitsProcess(t)
	blob := strings.Repeat("x", 900<<10)
	for range 10 {
		c.mustDo(t, `mutation($p: JSON!) { publishEvent(input: {type: "big", payload: $p}) { id } }`, map[string]any{"p": map[string]any{"blob": blob}}, nil)
	}
	payloads := func(resp gqlResponse) int { return strings.Count(string(resp.Data), blob) }

	t.Run("ErrPricedOverTheLimit", func(t *testing.T) {
		resp := c.do(t, `{ events(first: 100) { edges { node { payload } } } }`, nil)
		if len(resp.Errors) == 0 || !strings.Contains(resp.Errors[0].Message, "complexity") || payloads(resp) > 0 {
			t.Errorf("100 payloads: errors %+v, %d payloads; want a complexity error and none", resp.Errors, payloads(resp))
		}
	})
	t.Run("ErrOverTheResponseBudget", func(t *testing.T) {
		resp := c.do(t, `{ events(first: 50) { edges { node { id payload } } } }`, nil)
		if len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != model.CodeTooLarge {
			t.Fatalf("50 events: errors %+v, %d payloads; want TOO_LARGE", resp.Errors, payloads(resp))
		}
		if e := resp.Errors[0]; !strings.Contains(e.Message, "8 MiB") || !strings.Contains(e.Message, "fewer") {
			t.Errorf("message %q does not give the budget and what to do", e.Message)
		}
		if n := payloads(resp); n > 9 {
			t.Errorf("the response holds %d payloads of 900 KiB; want at most 8 MiB of them", n)
		}
	})
	t.Run("OK/Two", func(t *testing.T) {
		var out struct {
			Events struct {
				Edges []struct {
					Node struct{ Payload struct{ Blob string } }
				}
			}
		}
		c.mustDo(t, `{ events(first: 2) { edges { node { payload } } } }`, nil, &out)
		if e := out.Events.Edges; len(e) != 2 || e[0].Node.Payload.Blob != blob || e[1].Node.Payload.Blob != blob {
			t.Errorf("events(first: 2) gave %d events; want 2 with their payloads", len(e))
		}
	})
}
