package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/metrics"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// ---- Real Hookline processes ----

// hooklineBin returns the hookline binary that TestMain builds for the
// tests that run real processes, once it is built; nil with -short, which
// skips them.
var hooklineBin func() (string, error)

// TestMain builds the hookline binary once, from this module's source, for
// the tests that start, kill and restart real processes.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || flag.Lookup("test.list").Value.String() != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "hookline-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	// The build runs while the in-process tests do; the first process
	// test waits for it.
	bin := filepath.Join(dir, "hookline")
	built := make(chan error, 1)
	go func() { built <- buildHookline(bin) }()
	hooklineBin = sync.OnceValues(func() (string, error) { return bin, <-built })
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildHookline builds package github.com/hookline/hookline into bin, with
// the race detector when the tests have it.
func buildHookline(bin string) error {
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/hookline/hookline")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return nil
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// process is a hookline process started from the built binary, listening on
// a loopback port.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stdout *syncBuffer   // everything it printed so far
	read   chan struct{} // closed once its stdout is read to the end
	once   sync.Once
	err    error // what Wait returned
}

// processGuard bounds how long a test waits for a process to start or
// stop; it is a safety net against hangs, not a delay.
const processGuard = 30 * time.Second

// listenLine is the log line (text or JSON) that gives the listening address.
var listenLine = regexp.MustCompile(`msg="hookline listening" addr=(\S+)|"msg":"hookline listening","addr":"([^"]+)"`)

// startProcess runs the hookline binary with HOOKLINE_ADDR=127.0.0.1:0 and
// env added to the environment, and waits until it listens.
func startProcess(tb testing.TB, env ...string) *process {
	tb.Helper()
	if hooklineBin == nil {
		tb.Fatal("no hookline binary: the tests that run processes skip with -short")
	}
	bin, err := hooklineBin()
	if err != nil {
		tb.Fatalf("build hookline: %v", err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "HOOKLINE_ADDR=127.0.0.1:0")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &process{cmd: cmd, stdout: &syncBuffer{}, read: make(chan struct{})}
	tb.Cleanup(func() { cmd.Process.Kill(); p.wait() })
	addr := make(chan string, 1)
	go func() {
		defer close(p.read)
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			p.stdout.Write([]byte(line))
			if m := listenLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1] + m[2]:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case p.addr = <-addr:
		return p
	case <-p.read:
		tb.Fatalf("hookline exited before it listened: %v\nstdout:\n%s", p.wait(), p.stdout)
	case <-time.After(processGuard):
		tb.Fatalf("hookline did not start listening within %v\nstdout:\n%s", processGuard, p.stdout)
	}
	return nil
}

// wait waits for the process to end, once its output is read, and returns
// what Wait returned.
func (p *process) wait() error {
	p.once.Do(func() {
		<-p.read
		p.err = p.cmd.Wait()
	})
	return p.err
}

// stop sends SIGTERM and waits for the process to end.
func (p *process) stop(tb testing.TB) error {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.wait() }()
	select {
	case err := <-exited:
		return err
	case <-time.After(processGuard):
		tb.Fatalf("hookline did not exit within %v of SIGTERM", processGuard)
		return nil
	}
}

// client returns a GraphQL client for the process with the key.
func (p *process) client(key string) *client {
	return &client{url: "http://" + p.addr + "/graphql", key: key}
}

// ---- The in-process test server ----

// testServer is Hookline's real HTTP handler on a real database.
type testServer struct {
	*httptest.Server
	store *store.Store
	feed  feed.Feed
	admin *client
}

// testDBMaxConns caps the test server's connection pool, as
// HOOKLINE_DB_MAX_CONNS does by default.
const testDBMaxConns = 32

// newTestServer starts Hookline's handler and delivery engine on the
// database at url with an admin key of owner "admin". Deliveries may go to
// loopback receivers and retry after milliseconds.
func newTestServer(tb testing.TB, url string) *testServer {
	tb.Helper()
	return newTestServerWith(tb, url, testDeliveryConfig())
}

func testDeliveryConfig() delivery.Config {
	cfg := delivery.DefaultConfig()
	cfg.AllowPrivateTargets = true
	cfg.Workers = 8
	cfg.Timeout = 2 * time.Second
	cfg.Schedule = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}
	cfg.PollInterval = 50 * time.Millisecond
	return cfg
}

func newTestServerWith(tb testing.TB, url string, cfg delivery.Config) *testServer {
	tb.Helper()
	return newTestServerOpts(tb, testOptions{url: url, delivery: cfg})
}

type testOptions struct {
	url      string
	delivery delivery.Config
	feed     feed.Feed       // nil: a feed.Local
	noEngine bool            // publish only; another process delivers
	config   *httpapi.Config // nil: httpapi.DefaultConfig()
	stopping *atomic.Bool    // nil: never shutting down
	logs     io.Writer       // also gets the warnings and errors logged
	logLevel slog.Leveler    // nil: warn; info also logs every mutation (the audit lines)
}

// newTestServerOpts wires the server as the hookline command does: a feed,
// the store telling it of changes, metrics, the delivery engine and the
// HTTP API.
func newTestServerOpts(tb testing.TB, o testOptions) *testServer {
	tb.Helper()
	lw := &testLogWriter{tb: tb}
	var logTo io.Writer = lw
	if o.logs != nil {
		logTo = io.MultiWriter(lw, o.logs)
	}
	level := o.logLevel
	if level == nil {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: level}))
	changes := o.feed
	if changes == nil {
		changes = feed.NewLocal()
	}
	tb.Cleanup(func() { changes.Close() })
	st := storetest.OpenWith(tb, o.url, store.Options{Logger: slog.New(slog.DiscardHandler), MaxOpenConns: testDBMaxConns, Changes: changes})
	m := metrics.New(st, log)
	o.delivery.Observer = m
	engine := delivery.New(st, o.delivery, log)
	if !o.noEngine {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			engine.Run(ctx)
		}()
		tb.Cleanup(func() { cancel(); <-done })
	}
	cfg := o.config
	if cfg == nil {
		def := httpapi.DefaultConfig()
		cfg = &def
	}
	// Websockets outlive httptest's Close (they are hijacked): their base
	// context ends first, and what they log while they wind down is not
	// the finished test's business.
	base, cancelBase := context.WithCancel(context.Background())
	srv := httptest.NewUnstartedServer(httpapi.New(*cfg, httpapi.Deps{Store: st, Engine: engine, Feed: changes, Metrics: m, Log: log, Stopping: o.stopping}))
	srv.Config.BaseContext = func(net.Listener) context.Context { return base }
	srv.Start()
	tb.Cleanup(srv.Close)
	tb.Cleanup(cancelBase)
	tb.Cleanup(func() { lw.stopped.Store(true) })
	ts := &testServer{Server: srv, store: st, feed: changes}
	ts.admin = ts.newKey(tb, "admin", model.ApiKeyRoleAdmin)
	return ts
}

// newKey stores an API key for owner and returns a client that uses it.
func (ts *testServer) newKey(tb testing.TB, owner string, role model.ApiKeyRole) *client {
	tb.Helper()
	return ts.newKeyExpiring(tb, owner, role, nil)
}

// newKeyExpiring is newKey for a key that expires at expires (never when
// nil), which may be past: the API refuses to create such a key.
func (ts *testServer) newKeyExpiring(tb testing.TB, owner string, role model.ApiKeyRole, expires *time.Time) *client {
	tb.Helper()
	secret := model.NewAPIKeySecret()
	k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: owner, Role: role, Hash: model.HashAPIKey(secret), ExpiresAt: expires}
	if err := ts.store.CreateAPIKey(context.Background(), k); err != nil {
		tb.Fatalf("create api key: %v", err)
	}
	return &client{url: ts.URL + "/graphql", key: secret, keyID: k.ID}
}

// updateStored changes acme's stored webhook id through the store, as no
// API sets the times the engine reads, and checks with stored that the
// change is on record.
func updateStored(tb testing.TB, ts *testServer, id string, change func(*model.Webhook) error, stored func(*model.Webhook) bool) {
	tb.Helper()
	var changeErr error
	// The results are not used, only the change's error and a fresh read,
	// so the call does not depend on what else UpdateWebhook returns.
	ts.store.UpdateWebhook(context.Background(), "acme", id, func(w *model.Webhook) error {
		changeErr = change(w)
		return changeErr
	})
	if changeErr != nil {
		tb.Fatalf("update webhook %s: %v", id, changeErr)
	}
	w, err := ts.store.Webhook(context.Background(), "acme", id)
	if err != nil {
		tb.Fatalf("read webhook %s: %v", id, err)
	}
	if !stored(w) {
		tb.Fatalf("webhook %s after the update: secretRotatedAt %v, failingSince %v; the change is not on record", id, w.SecretRotatedAt, w.FailingSince)
	}
}

// rawDB opens the database at url with database/sql, beside the store, so a
// test can read rows as stored. The drivers ("sqlite", "mysql") are
// registered by package store. A sqlite://:memory: URL cannot be shared, so
// callers give a file.
func rawDB(tb testing.TB, url string) *sql.DB {
	tb.Helper()
	scheme, rest, _ := strings.Cut(url, "://")
	var db *sql.DB
	var err error
	switch scheme {
	case "sqlite":
		db, err = sql.Open("sqlite", "file:"+rest+"?_pragma=busy_timeout(5000)")
	case "mysql":
		db, err = sql.Open("mysql", rest)
	default:
		tb.Fatalf("rawDB: unknown database URL %q", url)
	}
	if err != nil {
		tb.Fatalf("open %s database: %v", scheme, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// testLogWriter sends the server's warnings and errors to the test log
// until the test ends.
type testLogWriter struct {
	tb      testing.TB
	stopped atomic.Bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	if !w.stopped.Load() {
		w.tb.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sampleHeap reads the heap in use every 10 ms, from a collected start,
// until stop is called; stop returns the start and the peak.
func sampleHeap(tb testing.TB) (stop func() (start, peak uint64)) {
	tb.Helper()
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	start := m.HeapInuse
	var peakHeap atomic.Uint64
	sampling, stopSampling := context.WithCancel(context.Background())
	var sampler sync.WaitGroup
	sampler.Go(func() {
		var m runtime.MemStats
		for tick := time.NewTicker(10 * time.Millisecond); ; {
			runtime.ReadMemStats(&m)
			peakHeap.Store(max(peakHeap.Load(), m.HeapInuse))
			select {
			case <-sampling.Done():
				tick.Stop()
				return
			case <-tick.C:
			}
		}
	})
	stop = func() (uint64, uint64) {
		stopSampling()
		sampler.Wait()
		return start, peakHeap.Load()
	}
	tb.Cleanup(func() { stop() })
	return stop
}

// deref returns *p, or nil for a nil p, for messages.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// ---- The GraphQL client ----

// client sends GraphQL requests over HTTP with an API key.
type client struct {
	url    string
	key    string
	keyID  string
	header http.Header // sent with every request, e.g. Hookline-Owner
}

// actingAs returns a copy of c that sends Hookline-Owner: owner.
func (c *client) actingAs(owner string) *client {
	cc := *c
	cc.header = http.Header{}
	cc.header.Set("Hookline-Owner", owner)
	return &cc
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// do sends one GraphQL request and decodes the response envelope.
func (c *client) do(tb testing.TB, query string, vars map[string]any) gqlResponse {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	for name, values := range c.header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", c.url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("decode response %q: %v", raw, err)
	}
	out.Status = resp.StatusCode
	return out
}

// mustDo sends a request that must succeed and decodes its data into dst.
func (c *client) mustDo(tb testing.TB, query string, vars map[string]any, dst any) {
	tb.Helper()
	resp := c.do(tb, query, vars)
	if len(resp.Errors) > 0 {
		tb.Fatalf("unexpected errors: %+v\nquery: %s", resp.Errors, query)
	}
	if dst != nil {
		if err := json.Unmarshal(resp.Data, dst); err != nil {
			tb.Fatalf("decode data %s: %v", resp.Data, err)
		}
	}
}

// wantError asserts that resp failed with code and, if field is not empty,
// extensions.field; it returns the first error.
func wantError(tb testing.TB, resp gqlResponse, code, field string) gqlError {
	tb.Helper()
	if len(resp.Errors) == 0 {
		tb.Fatalf("want %s error, got data %s", code, resp.Data)
	}
	e := resp.Errors[0]
	if got := e.Extensions["code"]; got != code {
		tb.Fatalf("error code = %v; want %s (message %q)", got, code, e.Message)
	}
	if field != "" && e.Extensions["field"] != field {
		tb.Fatalf("error field = %v; want %s (message %q)", e.Extensions["field"], field, e.Message)
	}
	if field != "" && !strings.Contains(e.Message, field) {
		tb.Errorf("error message %q does not name the field %s", e.Message, field)
	}
	return e
}

// testJWT is a well-formed (unsigned) JWT.
const testJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"

const webhookFields = `id url description events filters format enabled headers { name value secret }
	hasBearerToken hasSharedToken health createdAt updatedAt`

type webhookJSON struct {
	ID             string          `json:"id"`
	URL            string          `json:"url"`
	Description    string          `json:"description"`
	Events         []string        `json:"events"`
	Filters        json.RawMessage `json:"filters"`
	Format         string          `json:"format"`
	Enabled        bool            `json:"enabled"`
	Headers        []model.Header  `json:"headers"`
	HasBearerToken bool            `json:"hasBearerToken"`
	HasSharedToken bool            `json:"hasSharedToken"`
	Health         string          `json:"health"`
	CreatedAt      string          `json:"createdAt"`
	UpdatedAt      string          `json:"updatedAt"`
}

// createWebhook creates a webhook from input and returns it with its secret.
func (c *client) createWebhook(tb testing.TB, input map[string]any) (webhookJSON, string) {
	tb.Helper()
	var out struct {
		CreateWebhook struct {
			Webhook webhookJSON `json:"webhook"`
			Secret  string      `json:"secret"`
		} `json:"createWebhook"`
	}
	c.mustDo(tb, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { secret webhook { `+webhookFields+` } } }`,
		map[string]any{"in": input}, &out)
	return out.CreateWebhook.Webhook, out.CreateWebhook.Secret
}

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

// ping pings the webhook (one attempt, never retried) and returns the
// health it reports.
func (c *client) ping(tb testing.TB, id string) string {
	tb.Helper()
	var out struct{ PingWebhook struct{ Health string } }
	c.mustDo(tb, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": id}, &out)
	return out.PingWebhook.Health
}

type eventJSON struct {
	ID             string    `json:"id"`
	Type           string    `json:"type"`
	IdempotencyKey *string   `json:"idempotencyKey"`
	CreatedAt      time.Time `json:"createdAt"`
	Deliveries     struct {
		TotalCount int `json:"totalCount"`
		Edges      []struct {
			Node deliveryJSON `json:"node"`
		} `json:"edges"`
	} `json:"deliveries"`
}

type deliveryJSON struct {
	ID            string        `json:"id"`
	WebhookID     string        `json:"webhookId"`
	Status        string        `json:"status"`
	AttemptCount  int           `json:"attemptCount"`
	NextAttemptAt *time.Time    `json:"nextAttemptAt"`
	Attempts      []attemptJSON `json:"attempts"`
}

type attemptJSON struct {
	ID             string         `json:"id"`
	AttemptNumber  int            `json:"attemptNumber"`
	Outcome        string         `json:"outcome"`
	StatusCode     *int           `json:"statusCode"`
	Error          *string        `json:"error"`
	RequestHeaders []model.Header `json:"requestHeaders"`
	RequestBody    string         `json:"requestBody"`
	ResponseBody   string         `json:"responseBody"`
	StartedAt      time.Time      `json:"startedAt"`
	NextRetryAt    *time.Time     `json:"nextRetryAt"`
}

const deliveryFields = `id webhookId status attemptCount nextAttemptAt
	attempts { id attemptNumber outcome statusCode error requestHeaders { name value } requestBody responseBody startedAt nextRetryAt }`

// publish publishes an event and returns it with its deliveries.
func (c *client) publish(tb testing.TB, typ string, payload any, idempotencyKey string) eventJSON {
	tb.Helper()
	in := map[string]any{"type": typ, "payload": payload}
	if idempotencyKey != "" {
		in["idempotencyKey"] = idempotencyKey
	}
	var out struct{ PublishEvent eventJSON }
	// Without attempts: a new delivery has none, and 100 deliveries with
	// a page of attempts each cost more than the complexity limit.
	c.mustDo(tb, `mutation($in: PublishEventInput!) { publishEvent(input: $in) { id type idempotencyKey createdAt
		deliveries(first: 100) { totalCount edges { node { id webhookId status attemptCount nextAttemptAt } } } } }`, map[string]any{"in": in}, &out)
	return out.PublishEvent
}

// onlyDelivery returns the ID of the event's one delivery.
func onlyDelivery(tb testing.TB, ev eventJSON) string {
	tb.Helper()
	if len(ev.Deliveries.Edges) != 1 {
		tb.Fatalf("event %s has %d deliveries; want 1", ev.ID, len(ev.Deliveries.Edges))
	}
	return ev.Deliveries.Edges[0].Node.ID
}

// delivery fetches a delivery with its attempts.
func (c *client) delivery(tb testing.TB, id string) deliveryJSON {
	tb.Helper()
	var out struct{ Delivery *deliveryJSON }
	c.mustDo(tb, `query($id: ID!) { delivery(id: $id) { `+deliveryFields+` } }`, map[string]any{"id": id}, &out)
	if out.Delivery == nil {
		tb.Fatalf("delivery %s not found", id)
	}
	return *out.Delivery
}

// waitStatus waits until the delivery reaches status and returns it.
func (c *client) waitStatus(tb testing.TB, id, status string) deliveryJSON {
	tb.Helper()
	var d deliveryJSON
	eventually(tb, 10*time.Second, "delivery "+id+" to be "+status, func() bool {
		d = c.delivery(tb, id)
		return d.Status == status
	})
	return d
}

func (c *client) redeliver(tb testing.TB, id string) {
	tb.Helper()
	c.mustDo(tb, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, map[string]any{"id": id}, nil)
}

// totalCount returns how many of a connection's rows ("webhooks",
// "deliveries", "events") the caller can see.
func (c *client) totalCount(tb testing.TB, connection string) int {
	tb.Helper()
	var out map[string]struct{ TotalCount int }
	c.mustDo(tb, `{ `+connection+`(first: 1) { totalCount } }`, nil, &out)
	return out[connection].TotalCount
}

const webhooksPageQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: WebhookFilter) {
	webhooks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
		totalCount
		edges { cursor node { id } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	}
}`

// connPage is one page of a connection (webhooks, events, deliveries).
type connPage struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   struct {
			ID        string
			CreatedAt time.Time
		}
	}
	PageInfo struct {
		HasNextPage     bool
		HasPreviousPage bool
		StartCursor     *string
		EndCursor       *string
	}
}

func (p connPage) ids() []string {
	ids := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		ids[i] = e.Node.ID
	}
	return ids
}

// listWebhooks fetches one page of webhooks with vars as the query's
// arguments and checks that startCursor and endCursor match its edges.
func (c *client) listWebhooks(tb testing.TB, vars map[string]any) connPage {
	tb.Helper()
	var out struct{ Webhooks connPage }
	c.mustDo(tb, webhooksPageQuery, vars, &out)
	p := out.Webhooks
	start, end := p.PageInfo.StartCursor, p.PageInfo.EndCursor
	if len(p.Edges) == 0 {
		if start != nil || end != nil {
			tb.Errorf("empty page: startCursor %v, endCursor %v; want null", deref(start), deref(end))
		}
		return p
	}
	if start == nil || *start != p.Edges[0].Cursor {
		tb.Errorf("startCursor = %v; want the first edge's cursor %q", deref(start), p.Edges[0].Cursor)
	}
	if end == nil || *end != p.Edges[len(p.Edges)-1].Cursor {
		tb.Errorf("endCursor = %v; want the last edge's cursor %q", deref(end), p.Edges[len(p.Edges)-1].Cursor)
	}
	return p
}

// ---- The subscription client ----

// Subscription transports under test.
const (
	protoTransportWS = "graphql-transport-ws" // graphql-ws library, Apollo GraphQLWsLink, GraphiQL
	protoLegacyWS    = "graphql-ws"           // subscriptions-transport-ws, GraphQL Playground
	protoSSE         = "sse"
)

var subscriptionProtocols = []string{protoTransportWS, protoLegacyWS, protoSSE}

// The selections use fields the message itself carries: a field that reads
// the database (Delivery.event) could still be resolving on a websocket
// that outlives its test, as httptest.Server.Close does not wait for
// hijacked connections.
const (
	attemptQuery  = `subscription($f: AttemptFilter) { deliveryAttempts(filter: $f) { attemptNumber outcome statusCode eventType eventId webhookId } }`
	deliveryQuery = `subscription($f: DeliveryFilter) { deliveryUpdated(filter: $f) { id status webhookId attemptCount nextAttemptAt } }`
)

// attemptMsg is a message of attemptQuery.
type attemptMsg struct {
	DeliveryAttempts struct {
		AttemptNumber int
		Outcome       string
		StatusCode    *int
		EventType     string
		EventID       string
		WebhookID     string
	}
}

// deliveryMsg is a message of deliveryQuery.
type deliveryMsg struct {
	DeliveryUpdated struct {
		ID, Status, WebhookID string
		AttemptCount          int
		NextAttemptAt         *string
	}
}

// subscription is one GraphQL subscription over a real connection; its
// messages arrive on next, decoded from the payload's data.
type subscription struct {
	next   chan json.RawMessage
	errors chan []gqlError
	done   chan struct{}
	cancel context.CancelFunc
	conn   *websocket.Conn // nil over SSE
	start  string          // the message type that starts an operation

	// Once done is closed: what ended the connection (over websockets, the
	// read error, a websocket.CloseError when the server closed it), and when.
	end     error
	endedAt time.Time
}

// subscribe opens a subscription with the given protocol and API key. It
// fails the test if the server refuses the connection.
func subscribe(tb testing.TB, baseURL, protocol, key, query string, vars map[string]any) *subscription {
	tb.Helper()
	sub, err := trySubscribe(baseURL, protocol, key, query, vars)
	if err != nil {
		tb.Fatalf("subscribe over %s: %v", protocol, err)
	}
	tb.Cleanup(sub.close)
	return sub
}

func trySubscribe(baseURL, protocol, key, query string, vars map[string]any) (*subscription, error) {
	return trySubscribeWith(baseURL, protocol, map[string]string{"Authorization": "Bearer " + key}, query, vars)
}

// subscribeWith is subscribe with auth as the connection_init payload over
// websockets and as the HTTP headers over SSE, e.g. Authorization and
// Hookline-Owner. Over websockets, an empty query leaves the connection
// idle.
func subscribeWith(tb testing.TB, baseURL, protocol string, auth map[string]string, query string, vars map[string]any) *subscription {
	tb.Helper()
	sub, err := trySubscribeWith(baseURL, protocol, auth, query, vars)
	if err != nil {
		tb.Fatalf("subscribe over %s: %v", protocol, err)
	}
	tb.Cleanup(sub.close)
	return sub
}

func trySubscribeWith(baseURL, protocol string, auth map[string]string, query string, vars map[string]any) (*subscription, error) {
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscription{next: make(chan json.RawMessage, 1024), errors: make(chan []gqlError, 8), done: make(chan struct{}), cancel: cancel}
	payload := map[string]any{"query": query, "variables": vars}
	var err error
	if protocol == protoSSE {
		err = sub.runSSE(ctx, baseURL, auth, payload)
	} else {
		err = sub.runWebsocket(ctx, baseURL, protocol, auth, payload)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return sub, nil
}

func (s *subscription) close() {
	s.cancel()
	<-s.done
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWebsocket connects and completes connection_init with an
// {"Authorization": "Bearer <key>"} payload.
func dialWebsocket(ctx context.Context, baseURL, protocol string, initPayload any) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{protocol}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	init, _ := json.Marshal(initPayload)
	if err := writeWS(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		return nil, err
	}
	for {
		m, err := readWS(ctx, conn)
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return conn, nil
		case "connection_error":
			conn.Close(websocket.StatusNormalClosure, "")
			return nil, &connectionError{payload: string(m.Payload)}
		}
	}
}

type connectionError struct{ payload string }

func (e *connectionError) Error() string { return "connection_error: " + e.payload }

func writeWS(ctx context.Context, conn *websocket.Conn, m wsMessage) error {
	b, _ := json.Marshal(m)
	return conn.Write(ctx, websocket.MessageText, b)
}

func readWS(ctx context.Context, conn *websocket.Conn) (wsMessage, error) {
	_, b, err := conn.Read(ctx)
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	err = json.Unmarshal(b, &m)
	return m, err
}

func (s *subscription) runWebsocket(ctx context.Context, baseURL, protocol string, init map[string]string, payload map[string]any) error {
	conn, err := dialWebsocket(ctx, baseURL, protocol, init)
	if err != nil {
		return err
	}
	s.conn, s.start = conn, "subscribe"
	if protocol == protoLegacyWS {
		s.start = "start"
	}
	// Without a query the websocket stays idle: open, authenticated, and
	// running nothing.
	if q, _ := payload["query"].(string); q != "" {
		p, _ := json.Marshal(payload)
		if err := writeWS(ctx, conn, wsMessage{ID: "1", Type: s.start, Payload: p}); err != nil {
			return err
		}
	}
	go func() {
		defer close(s.done)
		defer conn.CloseNow()
		for {
			m, err := readWS(ctx, conn)
			if err != nil {
				s.end, s.endedAt = err, time.Now()
				return
			}
			switch m.Type {
			case "ping":
				writeWS(ctx, conn, wsMessage{Type: "pong"})
			case "next", "data":
				s.deliver(m.Payload)
			case "error":
				var errs []gqlError
				if json.Unmarshal(m.Payload, &errs) != nil {
					var one gqlError
					json.Unmarshal(m.Payload, &one)
					errs = []gqlError{one}
				}
				s.errors <- errs
			case "complete":
				if m.ID == "1" { // the subscription's; not one of send's
					s.endedAt = time.Now()
					return
				}
			}
		}
	}()
	return nil
}

// send starts another operation with id on the subscription's websocket;
// its results arrive on next and errors like the subscription's. It
// returns the write's error: the server may have closed the connection.
func (s *subscription) send(tb testing.TB, id, query string, vars map[string]any) error {
	tb.Helper()
	if s.conn == nil {
		tb.Fatal("send: not a websocket subscription")
	}
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return writeWS(ctx, s.conn, wsMessage{ID: id, Type: s.start, Payload: p})
}

// ended waits up to timeout for the connection to end, and returns when it
// did and what ended it (see subscription.end).
func (s *subscription) ended(tb testing.TB, timeout time.Duration) (time.Time, error) {
	tb.Helper()
	select {
	case <-s.done:
		return s.endedAt, s.end
	case <-time.After(timeout):
		tb.Fatalf("the subscription did not end within %v", timeout)
		return time.Time{}, nil
	}
}

func (s *subscription) deliver(payload json.RawMessage) {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	json.Unmarshal(payload, &resp)
	if len(resp.Errors) > 0 {
		s.errors <- resp.Errors
		return
	}
	s.next <- resp.Data
}

func (s *subscription) runSSE(ctx context.Context, baseURL string, headers map[string]string, payload map[string]any) error {
	body, _ := json.Marshal(payload)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for name, v := range headers {
		req.Header.Set(name, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return &httpStatusError{code: resp.StatusCode, body: b}
	}
	go func() {
		defer close(s.done)
		defer func() { s.endedAt = time.Now() }()
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var event string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:") && event == "next":
				s.deliver(json.RawMessage(strings.TrimSpace(strings.TrimPrefix(line, "data:"))))
			case event == "complete":
				return
			}
		}
	}()
	return nil
}

type httpStatusError struct {
	code int
	body []byte // the response's
}

func (e *httpStatusError) Error() string { return http.StatusText(e.code) }

// receive waits for the next message and decodes it into dst.
func (s *subscription) receive(tb testing.TB, dst any) {
	tb.Helper()
	decode := func(data json.RawMessage) {
		if err := json.Unmarshal(data, dst); err != nil {
			tb.Fatalf("decode subscription data %s: %v", data, err)
		}
	}
	select {
	case data := <-s.next:
		decode(data)
	case errs := <-s.errors:
		tb.Fatalf("subscription error: %+v", errs)
	case <-s.done:
		// A one-shot operation ends right after its result, which may
		// still be buffered: select picks among ready cases at random.
		select {
		case data := <-s.next:
			decode(data)
		default:
			tb.Fatal("subscription ended")
		}
	case <-time.After(10 * time.Second):
		tb.Fatal("no subscription message within 10s")
	}
}

// receiveSkipping is receive, passing over messages that mention skip (the
// probe webhook's), unless skip is empty.
func (s *subscription) receiveSkipping(tb testing.TB, skip string, dst any) {
	tb.Helper()
	for {
		var raw json.RawMessage
		s.receive(tb, &raw)
		if skip != "" && strings.Contains(string(raw), skip) {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatalf("decode subscription data %s: %v", raw, err)
		}
		return
	}
}

// liven calls trigger, which must cause a message that sub accepts, until a
// message arrives: then sub exists in the broker, and nothing published
// afterwards can miss it. When marker is not empty, that first message must
// mention it (e.g. the ID of the webhook trigger pings): anything else
// arriving before the subscription is live fails the test.
func liven(tb testing.TB, sub *subscription, marker string, trigger func()) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		trigger()
		select {
		case data := <-sub.next:
			if marker != "" && !strings.Contains(string(data), marker) {
				tb.Fatalf("unexpected message before the subscription was live: %s", data)
			}
			return
		case errs := <-sub.errors:
			tb.Fatalf("subscription error: %+v", errs)
		case <-sub.done:
			tb.Fatal("subscription ended")
		case <-time.After(300 * time.Millisecond):
		}
	}
	tb.Fatal("subscription did not go live within 10s")
}

// until reads messages until one mentions marker and returns those before it
// that do not mention skip.
func until(tb testing.TB, sub *subscription, marker, skip string) []json.RawMessage {
	tb.Helper()
	var got []json.RawMessage
	for {
		var raw json.RawMessage
		sub.receive(tb, &raw)
		switch {
		case strings.Contains(string(raw), marker):
			return got
		case skip == "" || !strings.Contains(string(raw), skip):
			got = append(got, raw)
		}
	}
}

// stuckSubscriber subscribes to every attempt, with their bodies, over a
// websocket it does not read from.
func stuckSubscriber(tb testing.TB, baseURL, key string) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dialWebsocket(ctx, baseURL, protoTransportWS, map[string]string{"Authorization": "Bearer " + key})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.CloseNow() })
	p, _ := json.Marshal(map[string]any{"query": `subscription { deliveryAttempts { id requestBody responseBody requestHeaders { name value } } }`})
	if err := writeWS(ctx, conn, wsMessage{ID: "1", Type: "subscribe", Payload: p}); err != nil {
		tb.Fatal(err)
	}
	return conn
}
