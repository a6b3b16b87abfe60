package feed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookline/hookline/model"
)

// waitTimeout bounds every wait for something that should happen at once.
const waitTimeout = 10 * time.Second

// redisTestURL is the Redis the tests use; without it only the memory
// broker is tested.
func redisTestURL() string { return os.Getenv("HOOKLINE_TEST_REDIS_URL") }

// feedImpls is every Feed under test, each opened fresh per call.
func feedImpls(t *testing.T) []struct {
	name string
	open func(testing.TB) Feed
} {
	impls := []struct {
		name string
		open func(testing.TB) Feed
	}{
		{"Memory", func(tb testing.TB) Feed { return mustOpenLocal(tb) }},
	}
	if redisTestURL() != "" {
		impls = append(impls, struct {
			name string
			open func(testing.TB) Feed
		}{"Redis", func(tb testing.TB) Feed { return mustOpenRedis(tb, randomChannel(tb)) }})
	} else {
		t.Log("HOOKLINE_TEST_REDIS_URL is not set: testing the memory broker only")
	}
	return impls
}

func mustOpenLocal(tb testing.TB) *Local {
	tb.Helper()
	b := NewLocal()
	tb.Cleanup(func() { b.Close() })
	return b
}

// mustOpenRedis opens a broker on HOOKLINE_TEST_REDIS_URL and channel;
// it fails the test if that Redis cannot be reached.
func mustOpenRedis(tb testing.TB, channel string, opts ...RedisOption) *Redis {
	tb.Helper()
	return mustOpenRedisURL(tb, redisTestURL(), channel, opts...)
}

// mustOpenRedisURL opens a broker on url, skipping the test if url is
// empty.
func mustOpenRedisURL(tb testing.TB, url, channel string, opts ...RedisOption) *Redis {
	tb.Helper()
	if url == "" {
		tb.Skip("HOOKLINE_TEST_REDIS_URL is not set")
	}
	log := slog.New(slog.NewTextHandler(testWriter{tb}, nil))
	b, err := NewRedis(context.Background(), url, log, append([]RedisOption{WithRedisChannel(channel)}, opts...)...)
	if err != nil {
		tb.Fatalf("NewRedis(%s): %v", url, err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return b
}

// randomChannel isolates a test from every other user of the Redis.
func randomChannel(tb testing.TB) string {
	tb.Helper()
	var p [8]byte
	rand.Read(p[:])
	return "hookline:test:" + hex.EncodeToString(p[:])
}

// testWriter sends log lines to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// deliveryMsg is message n of owner: a delivery whose AttemptCount is n.
func deliveryMsg(owner string, n int) model.Change {
	return model.Change{Owner: owner, Delivery: &model.Delivery{ID: "dlv_" + strconv.Itoa(n), Owner: owner, AttemptCount: n, Status: model.DeliveryStatusPending}}
}

func mustNotify(tb testing.TB, b Feed, msg model.Change) {
	tb.Helper()
	if err := b.Notify(context.Background(), msg); err != nil {
		tb.Fatalf("Notify: %v", err)
	}
}

func mustWatch(tb testing.TB, b Feed, ctx context.Context, owner string, buffer int) *Stream {
	tb.Helper()
	s, err := b.Watch(ctx, owner, buffer)
	if err != nil {
		tb.Fatalf("Watch(%q, %d): %v", owner, buffer, err)
	}
	tb.Cleanup(s.Close)
	return s
}

// recv returns the next message of s, failing if none comes in time or C
// closes.
func recv(tb testing.TB, s *Stream) model.Change {
	tb.Helper()
	select {
	case m, ok := <-s.C:
		if !ok {
			tb.Fatalf("C closed, Err() = %v; want a message", s.Err())
		}
		return *m
	case <-time.After(waitTimeout):
		tb.Fatalf("no message within %v", waitTimeout)
	}
	panic("unreachable")
}

// waitClosed drains s until C closes and returns what it drained.
func waitClosed(tb testing.TB, s *Stream) []model.Change {
	tb.Helper()
	var got []model.Change
	deadline := time.After(waitTimeout)
	for {
		select {
		case m, ok := <-s.C:
			if !ok {
				return got
			}
			got = append(got, *m)
		case <-deadline:
			tb.Fatalf("C not closed within %v (drained %d messages)", waitTimeout, len(got))
		}
	}
}

// waitFor polls cond until it holds, failing after waitTimeout.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFeed(t *testing.T) {
	for _, impl := range feedImpls(t) {
		t.Run(impl.name, func(t *testing.T) {
			t.Run("OwnerIsolation", func(t *testing.T) { testOwnerIsolation(t, impl.open(t)) })
			t.Run("Order", func(t *testing.T) { testOrder(t, impl.open(t)) })
			t.Run("CancelEndsSubscription", func(t *testing.T) { testCancelEndsSubscription(t, impl.open(t)) })
			t.Run("CloseEndsSubscription", func(t *testing.T) { testCloseEndsSubscription(t, impl.open(t)) })
			t.Run("ErrSlowSubscriber", func(t *testing.T) { testErrSlowSubscriber(t, impl.open(t)) })
			t.Run("Close", func(t *testing.T) { testClose(t, impl.open(t)) })
			t.Run("WebhookSecretsRedacted", func(t *testing.T) { testWebhookSecretsRedacted(t, impl.open(t)) })
			t.Run("ErrInvalid", func(t *testing.T) { testErrInvalid(t, impl.open(t)) })
			t.Run("NoGoroutineLeak", func(t *testing.T) { testNoGoroutineLeak(t, impl.open) })
		})
	}
}

// A subscriber of owner B receives none of owner A's messages.
func testOwnerIsolation(t *testing.T, b Feed) {
	a := mustWatch(t, b, context.Background(), "owner-a", 100)
	bb := mustWatch(t, b, context.Background(), "owner-b", 100)
	for i := range 10 {
		mustNotify(t, b, deliveryMsg("owner-a", i))
	}
	// One publisher: had B received any of A's messages, they would come
	// before this one.
	mustNotify(t, b, deliveryMsg("owner-b", 99))
	if m := recv(t, bb); m.Owner != "owner-b" || m.Delivery.AttemptCount != 99 {
		t.Fatalf("owner-b received %s message %d; want only its own (99)", m.Owner, m.Delivery.AttemptCount)
	}
	for i := range 10 {
		if m := recv(t, a); m.Owner != "owner-a" || m.Delivery.AttemptCount != i {
			t.Fatalf("owner-a message %d = %s %d; want owner-a %d", i, m.Owner, m.Delivery.AttemptCount, i)
		}
	}
	select {
	case m := <-a.C:
		t.Fatalf("owner-a received %s %d; want nothing more", m.Owner, m.Delivery.AttemptCount)
	default:
	}
}

// Messages published in sequence arrive in that order.
func testOrder(t *testing.T, b Feed) {
	const n = 1000
	s := mustWatch(t, b, context.Background(), "owner", n)
	for i := range n {
		mustNotify(t, b, deliveryMsg("owner", i))
	}
	for i := range n {
		if got := recv(t, s).Delivery.AttemptCount; got != i {
			t.Fatalf("message %d = %d; want %d", i, got, i)
		}
	}
}

// Cancelling the context closes C, with Err() == nil, and later messages
// are not delivered.
func testCancelEndsSubscription(t *testing.T, b Feed) {
	ctx, cancel := context.WithCancel(context.Background())
	s := mustWatch(t, b, ctx, "owner", 10)
	other := mustWatch(t, b, context.Background(), "owner", 10)
	mustNotify(t, b, deliveryMsg("owner", 1))
	recv(t, other)
	cancel()
	got := waitClosed(t, s)
	if len(got) > 1 {
		t.Errorf("drained %d messages after cancel; want at most the one published before", len(got))
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err() = %v; want nil", err)
	}
	// Publishing after the end neither panics nor reaches s.
	mustNotify(t, b, deliveryMsg("owner", 2))
	if m := recv(t, other); m.Delivery.AttemptCount != 2 {
		t.Errorf("other subscriber got %d; want 2", m.Delivery.AttemptCount)
	}
	s.Close() // after the end: no effect
	if err := s.Err(); err != nil {
		t.Errorf("Err() after Close = %v; want nil", err)
	}
}

// Closing a subscription closes C, with Err() == nil.
func testCloseEndsSubscription(t *testing.T, b Feed) {
	s := mustWatch(t, b, context.Background(), "owner", 10)
	if err := s.Err(); err != nil {
		t.Errorf("Err() of an open subscription = %v; want nil", err)
	}
	s.Close()
	s.Close()
	waitClosed(t, s)
	if err := s.Err(); err != nil {
		t.Errorf("Err() = %v; want nil", err)
	}
}

// A subscriber that never reads is dropped with ErrSlowSubscriber without
// ever blocking Publish, and a subscriber that keeps up receives everything.
func testErrSlowSubscriber(t *testing.T, b Feed) {
	const n = 10_000
	slow := mustWatch(t, b, context.Background(), "owner", 8)
	fast := mustWatch(t, b, context.Background(), "owner", n)

	var fastGot []int
	fastDone := make(chan struct{})
	go func() {
		defer close(fastDone)
		for m := range fast.C {
			fastGot = append(fastGot, m.Delivery.AttemptCount)
			if len(fastGot) == n {
				return
			}
		}
	}()

	published := make(chan error, 1)
	go func() {
		for i := range n {
			if err := b.Notify(context.Background(), deliveryMsg("owner", i)); err != nil {
				published <- fmt.Errorf("Notify(%d): %w", i, err)
				return
			}
		}
		published <- nil
	}()
	select {
	case err := <-published:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("publishing %d messages did not finish within 60s: Notify blocks on a subscriber", n)
	}

	slowGot := waitClosed(t, slow)
	if err := slow.Err(); !errors.Is(err, ErrSlowSubscriber) {
		t.Errorf("slow Err() = %v; want ErrSlowSubscriber", err)
	}
	// It keeps what fitted its buffer, in order and without gaps.
	if len(slowGot) != 8 {
		t.Errorf("slow subscriber drained %d messages; want its buffer, 8", len(slowGot))
	}
	for i, m := range slowGot {
		if m.Delivery.AttemptCount != i {
			t.Errorf("slow message %d = %d; want %d", i, m.Delivery.AttemptCount, i)
		}
	}

	select {
	case <-fastDone:
	case <-time.After(waitTimeout):
		t.Fatalf("fast subscriber did not receive %d messages within %v", n, waitTimeout)
	}
	if len(fastGot) != n {
		t.Fatalf("fast subscriber received %d messages, then C closed with %v; want %d", len(fastGot), fast.Err(), n)
	}
	for i, got := range fastGot {
		if got != i {
			t.Fatalf("fast message %d = %d; want %d", i, got, i)
		}
	}
	if err := fast.Err(); err != nil {
		t.Errorf("fast Err() = %v; want nil", err)
	}
}

// Close ends every subscription with Err() == nil; the broker then refuses
// Publish and Subscribe.
func testClose(t *testing.T, b Feed) {
	s1 := mustWatch(t, b, context.Background(), "owner-a", 10)
	s2 := mustWatch(t, b, context.Background(), "owner-b", 10)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, s := range []*Stream{s1, s2} {
		waitClosed(t, s)
		if err := s.Err(); err != nil {
			t.Errorf("Err() = %v; want nil", err)
		}
	}
	if err := b.Notify(context.Background(), deliveryMsg("owner-a", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Notify after Close = %v; want ErrClosed", err)
	}
	if _, err := b.Watch(context.Background(), "owner-a", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Watch after Close = %v; want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Subscribers see which secrets a webhook has, never the secrets; the
// publisher's webhook is left as it was.
func testWebhookSecretsRedacted(t *testing.T, b Feed) {
	s := mustWatch(t, b, context.Background(), "owner", 10)
	w := &model.Webhook{ID: "wh_1", Owner: "owner", URL: "https://example.com/hook", Secret: "whsec_c2VjcmV0", BearerToken: "bearer-secret", Events: []string{"*"},
		Headers: []model.Header{{Name: "X-Api-Key", Value: "header-secret", Secret: true}, {Name: "X-Team", Value: "blue"}}}
	mustNotify(t, b, model.Change{Owner: "owner", Webhook: w})
	got := recv(t, s).Webhook
	if got == nil || got.ID != "wh_1" || got.URL != w.URL {
		t.Fatalf("received webhook %+v; want wh_1", got)
	}
	if got.HasBearerToken() != true || got.HasSharedToken() != false {
		t.Errorf("HasBearerToken, HasSharedToken = %v, %v; want true, false", got.HasBearerToken(), got.HasSharedToken())
	}
	for name, v := range map[string]string{"Secret": got.Secret, "PreviousSecret": got.PreviousSecret, "BearerToken": got.BearerToken, "SharedToken": got.SharedToken} {
		if strings.Contains(v, "secret") || strings.Contains(v, "c2VjcmV0") {
			t.Errorf("subscriber sees %s = %q; want it redacted", name, v)
		}
	}
	if want := []model.Header{{Name: "X-Api-Key", Value: redactedSecret, Secret: true}, {Name: "X-Team", Value: "blue"}}; !slices.Equal(got.Headers, want) {
		t.Errorf("subscriber sees headers %+v; want %+v", got.Headers, want)
	}
	if w.Secret != "whsec_c2VjcmV0" || w.BearerToken != "bearer-secret" || w.Headers[0].Value != "header-secret" {
		t.Errorf("Notify changed the caller's webhook: %+v", w)
	}
}

func testErrInvalid(t *testing.T, b Feed) {
	for name, msg := range map[string]model.Change{
		"NoOwner":   {Delivery: &model.Delivery{}},
		"NoPayload": {Owner: "owner"},
		"Two":       {Owner: "owner", Delivery: &model.Delivery{}, Attempt: &model.DeliveryAttempt{}},
	} {
		if err := b.Notify(context.Background(), msg); err == nil {
			t.Errorf("Notify(%s) = nil; want an error", name)
		}
	}
	for _, buffer := range []int{0, -1} {
		if _, err := b.Watch(context.Background(), "owner", buffer); err == nil {
			t.Errorf("Watch(buffer %d) = nil error; want an error", buffer)
		}
	}
}

// After Close, no goroutine of the broker or its subscriptions is left.
func testNoGoroutineLeak(t *testing.T, open func(testing.TB) Feed) {
	// Warm up: let the libraries start whatever they start once per process.
	warm := open(t)
	warm.Close()

	before := runtime.NumGoroutine()
	b := open(t)
	var subs []*Stream
	var cancels []context.CancelFunc
	for i := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		if i%2 == 0 {
			ctx = context.Background() // ended only by Close
		}
		s, err := b.Watch(ctx, "owner-"+strconv.Itoa(i%3), 4)
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		subs = append(subs, s)
	}
	for i := range 10 {
		mustNotify(t, b, deliveryMsg("owner-"+strconv.Itoa(i%3), i))
	}
	cancels[1]()
	cancels[3]()
	subs[5].Close()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, s := range subs {
		waitClosed(t, s)
	}
	for _, cancel := range cancels {
		cancel()
	}
	waitFor(t, fmt.Sprintf("goroutines to return to %d", before), func() bool { return runtime.NumGoroutine() <= before })
}

// Concurrent publishers, subscribers, cancellations and evictions, for the
// race detector: no send on a closed channel, no data race.
func TestLocalConcurrent(t *testing.T) {
	b := mustOpenLocal(t)
	var wg sync.WaitGroup
	var received atomic.Int64
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				ctx, cancel := context.WithCancel(context.Background())
				s, err := b.Watch(ctx, "owner-"+strconv.Itoa(i%2), 1+j%4)
				if err != nil {
					t.Errorf("Watch: %v", err)
					cancel()
					return
				}
				for k := 0; k < j%5; k++ {
					if _, ok := <-s.C; ok {
						received.Add(1)
					}
				}
				if j%2 == 0 {
					cancel()
				} else {
					s.Close()
				}
				waitClosed(t, s)
				cancel()
			}
		})
	}
	stop := make(chan struct{})
	var pubs sync.WaitGroup
	for i := range 4 {
		pubs.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := b.Notify(context.Background(), deliveryMsg("owner-"+strconv.Itoa(i%2), n)); err != nil {
					t.Errorf("Notify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	pubs.Wait()
	if received.Load() == 0 {
		t.Error("subscribers received nothing")
	}
	b.mu.RLock()
	left := len(b.subs)
	b.mu.RUnlock()
	if left != 0 {
		t.Errorf("%d owners still have subscribers; want none", left)
	}
}

// A subscriber on one Redis receives what another publishes on the
// same channel: the case of two processes.
func TestRedisCrossProcess(t *testing.T) {
	channel := randomChannel(t)
	a := mustOpenRedis(t, channel)
	b := mustOpenRedis(t, channel)
	other := mustOpenRedis(t, randomChannel(t))
	onA := mustWatch(t, a, context.Background(), "owner", 10)
	onB := mustWatch(t, b, context.Background(), "owner", 10)
	onOther := mustWatch(t, other, context.Background(), "owner", 10)

	mustNotify(t, a, deliveryMsg("owner", 1))
	mustNotify(t, b, deliveryMsg("owner", 2))
	for name, s := range map[string]*Stream{"A": onA, "B": onB} {
		for _, want := range []int{1, 2} {
			if got := recv(t, s).Delivery.AttemptCount; got != want {
				t.Errorf("subscriber on %s got %d; want %d", name, got, want)
			}
		}
	}
	// The broker on another channel heard nothing: it gets its own first.
	mustNotify(t, other, deliveryMsg("owner", 3))
	if got := recv(t, onOther).Delivery.AttemptCount; got != 3 {
		t.Errorf("broker on another channel got %d; want only its own (3)", got)
	}
}

// After Redis drops the Pub/Sub connection, the broker reconnects,
// resubscribes and delivers again.
func TestRedisReconnect(t *testing.T) {
	url := redisTestURL()
	if url == "" {
		t.Skip("HOOKLINE_TEST_REDIS_URL is not set")
	}
	// Name the broker's connections to find its Pub/Sub one.
	channel := randomChannel(t)
	name := strings.ReplaceAll(channel, ":", "-")
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("client_name", name)
	u.RawQuery = q.Encode()
	b := mustOpenRedisURL(t, u.String(), channel)
	s := mustWatch(t, b, context.Background(), "owner", 1000)
	mustNotify(t, b, deliveryMsg("owner", 0))
	recv(t, s)

	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opt)
	defer admin.Close()
	ctx := context.Background()
	id, err := pubSubClientID(ctx, admin, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.ClientKillByFilter(ctx, "ID", strconv.FormatInt(id, 10)).Err(); err != nil {
		t.Fatalf("CLIENT KILL ID %d: %v", id, err)
	}

	// Messages published while the broker is away are lost; publish until
	// one arrives.
	deadline := time.After(waitTimeout)
	for n := 1; ; n++ {
		mustNotify(t, b, deliveryMsg("owner", n))
		select {
		case m, ok := <-s.C:
			if !ok {
				t.Fatalf("C closed with %v; want it to survive a reconnect", s.Err())
			}
			if m.Delivery.AttemptCount < 1 {
				t.Fatalf("got message %d; want one published after the kill", m.Delivery.AttemptCount)
			}
			if newID, err := pubSubClientID(ctx, admin, name); err != nil || newID == id {
				t.Errorf("Pub/Sub client id after reconnect = %d, %v; want a new connection", newID, err)
			}
			return
		case <-deadline:
			t.Fatalf("no message within %v of killing the Pub/Sub connection", waitTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pubSubClientID returns the id of the Pub/Sub connection named name.
func pubSubClientID(ctx context.Context, admin *redis.Client, name string) (int64, error) {
	list, err := admin.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text()
	if err != nil {
		return 0, fmt.Errorf("CLIENT LIST: %w", err)
	}
	for line := range strings.Lines(list) {
		var id int64
		var named bool
		for _, f := range strings.Fields(line) {
			switch k, v, _ := strings.Cut(f, "="); k {
			case "id":
				id, _ = strconv.ParseInt(v, 10, 64)
			case "name":
				named = v == name
			}
		}
		if named && id != 0 {
			return id, nil
		}
	}
	return 0, fmt.Errorf("no Pub/Sub client named %s in:\n%s", name, list)
}

// An idle Pub/Sub connection is pinged rather than redialled, and keeps
// delivering.
func TestRedisIdlePing(t *testing.T) {
	var logs syncBuffer
	quick := func(b *Redis) {
		b.quietInterval = 20 * time.Millisecond
		b.pongTimeout = 50 * time.Millisecond
		b.log = slog.New(slog.NewTextHandler(&logs, nil))
	}
	b := mustOpenRedis(t, randomChannel(t), quick)
	s := mustWatch(t, b, context.Background(), "owner", 10)
	for i := range 3 {
		// Idle for several quiet intervals: the point of the test, not a
		// wait for an outcome.
		time.Sleep(100 * time.Millisecond)
		mustNotify(t, b, deliveryMsg("owner", i))
		if got := recv(t, s).Delivery.AttemptCount; got != i {
			t.Fatalf("got %d; want %d", got, i)
		}
	}
	if logs.String() != "" {
		t.Errorf("an idle connection logged:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNewRedis_Errors(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    string // a part of the message
		notWant string
	}{
		{"ErrUnreachable", "redis://127.0.0.1:1/0", "127.0.0.1:1", ""},
		{"ErrBadURL", "redis://user:hunter2@127.0.0.1:bad/0", "parse URL", "hunter2"},
		{"ErrScheme", "http://127.0.0.1:6379", "scheme", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewRedis(context.Background(), tt.url, nil)
			if err == nil {
				b.Close()
				t.Fatalf("NewRedis(%q) = nil error; want one containing %q", tt.url, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRedis error = %q; want it to contain %q", err, tt.want)
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("NewRedis error = %q; want it without %q", err, tt.notWant)
			}
		})
	}
}

func TestWireMessageRoundTrip(t *testing.T) {
	// Whatever JSON tags the secret fields carry, the receiver knows which
	// secrets are set and never learns them.
	w := redact(model.Change{Owner: "o", Webhook: &model.Webhook{ID: "wh", SharedToken: "shared"}})
	got := newWireMessage(w)
	got.Webhook.SharedToken = "" // as if json:"-" dropped it
	m := got.message()
	if !m.Webhook.HasSharedToken() || m.Webhook.HasBearerToken() || m.Webhook.SharedToken != redactedSecret {
		t.Errorf("after the wire: HasSharedToken %v, HasBearerToken %v, SharedToken %q; want true, false, %q",
			m.Webhook.HasSharedToken(), m.Webhook.HasBearerToken(), m.Webhook.SharedToken, redactedSecret)
	}
}

// BenchmarkLocalNotify publishes to 1,000 subscribers of one owner,
// each drained by its own goroutine.
func BenchmarkLocalNotify(b *testing.B) {
	const subscribers = 1000
	br := NewLocal()
	var wg sync.WaitGroup
	subs := make([]*Stream, subscribers)
	for i := range subs {
		s, err := br.Watch(context.Background(), "owner", 1024)
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
		wg.Go(func() {
			for range s.C {
			}
		})
	}
	msg := deliveryMsg("owner", 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Notify(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	evicted := 0
	br.Close()
	wg.Wait()
	for _, s := range subs {
		if s.Err() != nil {
			evicted++
		}
	}
	b.ReportMetric(float64(evicted), "evicted")
}

// BenchmarkSubscribe measures what one idle subscription holds: B/op is the
// memory each of a thousand idle subscribers costs the broker.
func BenchmarkSubscribe(b *testing.B) {
	broker := NewLocal()
	defer broker.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := broker.Watch(ctx, "owner", 256); err != nil {
			b.Fatal(err)
		}
	}
}
