package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

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

// getWebhook returns the caller's webhook id, failing the test if it is not visible.
func (c *client) getWebhook(tb testing.TB, id string) webhookJSON {
	tb.Helper()
	var out struct{ Webhook *webhookJSON }
	c.mustDo(tb, `query($id: ID!) { webhook(id: $id) { `+webhookFields+` } }`, map[string]any{"id": id}, &out)
	if out.Webhook == nil {
		tb.Fatalf("webhook(%s) = null; want the webhook", id)
	}
	return *out.Webhook
}

// webhookCount returns the totalCount of the caller's webhooks.
func (c *client) webhookCount(tb testing.TB) int {
	tb.Helper()
	var out struct{ Webhooks struct{ TotalCount int } }
	c.mustDo(tb, `{ webhooks { totalCount } }`, nil, &out)
	return out.Webhooks.TotalCount
}

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
		{"ErrBearerToken/onePart", map[string]any{"bearerToken": "abc"}, "bearerToken"},
		{"ErrBearerToken/twoParts", map[string]any{"bearerToken": "a.b"}, "bearerToken"},
		{"ErrBearerToken/notBase64URLJSON", map[string]any{"bearerToken": "a.b.c"}, "bearerToken"},
		{"ErrBearerToken/payloadNotObject", map[string]any{"bearerToken": jwtPart(`{"alg":"none"}`) + "." + jwtPart(`[1]`) + ".c2ln"}, "bearerToken"},
		{"ErrDescriptionTooLong", map[string]any{"description": strings.Repeat("d", model.MaxDescriptionRunes+1)}, "description"},
		{"ErrDescriptionTooLong/multiByte", map[string]any{"description": strings.Repeat("é", model.MaxDescriptionRunes+1)}, "description"},
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
		{"OK/EventName128Chars", map[string]any{"events": []string{longEvent, "*", "a:b_c-d.e*"}}, func(t *testing.T, w webhookJSON) {
			if got, want := w.Events, []string{longEvent, "*", "a:b_c-d.e*"}; !reflect.DeepEqual(got, want) {
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
			if want := (model.Header{Name: "Authorization", Value: "Basic dTpw"}); len(w.Headers) != 1 || w.Headers[0] != want {
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
					before := c.webhookCount(t)
					resp := c.do(t, createMutation, map[string]any{"in": validWebhookInput(tc.input)})
					wantError(t, resp, model.CodeBadUserInput, tc.field)
					if got := c.webhookCount(t); got != before {
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
