package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hookline/hookline/model"
)

// metricsText returns the body of GET url, which must answer 200.
func metricsText(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

// TestMetricsLabelsAreRootFields: operations are counted by the schema's
// root fields, never by the names clients give them: /metrics, which needs
// no key, shows no tenant's operation names, and no tenant can use up the
// label values with names of its own.
func TestMetricsLabelsAreRootFields(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	alice := ts.newKey(t, "alice", model.ApiKeyRoleMember)
	bob := ts.newKey(t, "bob", model.ApiKeyRoleMember)
	alice.mustDo(t, `query AliceSecretOperationName { webhooks { totalCount } }`, nil, nil)
	alice.mustDo(t, `mutation AliceSecretMutation { createWebhook(input: {url: "https://example.com/a", events: ["*"]}) { secret } }`, nil, nil)
	const names = 300
	for i := range names {
		bob.mustDo(t, fmt.Sprintf(`query BobOperation%d { me { id } }`, i), nil, nil)
	}
	bob.mustDo(t, `query Both { me { id } owner ...F } fragment F on Query { webhooks(first: 1) { totalCount } }`, nil, nil)

	body := metricsText(t, ts.URL+"/metrics")
	for _, name := range []string{"AliceSecret", "BobOperation", "Both"} {
		if strings.Contains(body, name) {
			t.Errorf("/metrics shows a client's operation name (%s)", name)
		}
	}
	for _, want := range []string{
		`hookline_graphql_operations_total{field="webhooks",outcome="ok"} 2`,
		`hookline_graphql_operations_total{field="createWebhook",outcome="ok"} 1`,
		fmt.Sprintf(`hookline_graphql_operations_total{field="me",outcome="ok"} %d`, names+1),
		`hookline_graphql_operations_total{field="owner",outcome="ok"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
