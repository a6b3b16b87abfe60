package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
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

// metricsListenLine is the log line that gives the metrics listener's address.
var metricsListenLine = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)

// TestMetricsAddr: with HOOKLINE_METRICS_ADDR, /metrics is served on that
// listener, with the delivery counters at 0 before any delivery, and no
// longer on the API's; the metrics listener serves nothing else.
func TestMetricsAddr(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a hookline process: skipped with -short")
	}
	p := startProcess(t, "HOOKLINE_DATABASE_URL=sqlite://"+t.TempDir()+"/metrics.db", "HOOKLINE_METRICS_ADDR=127.0.0.1:0")
	m := metricsListenLine.FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("no %q line before the process listened:\n%s", "metrics listening", p.stdout)
	}
	metricsURL := "http://" + m[1]

	body := metricsText(t, metricsURL+"/metrics")
	for _, want := range []string{
		`hookline_delivery_attempts_total{outcome="success"} 0`,
		`hookline_delivery_attempts_total{outcome="failure"} 0`,
		`hookline_deliveries_finished_total{status="succeeded"} 0`,
		`hookline_deliveries_finished_total{status="dead"} 0`,
		`hookline_queue_depth 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%s/metrics lacks %q", metricsURL, want)
		}
	}
	status := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, url := range []string{"http://" + p.addr + "/metrics", metricsURL + "/graphql", metricsURL + "/"} {
		if got := status(url); got != http.StatusNotFound {
			t.Errorf("GET %s: %d; want 404", url, got)
		}
	}
	if got := status("http://" + p.addr + "/livez"); got != http.StatusOK {
		t.Errorf("GET /livez on the API's listener: %d; want 200", got)
	}
}
