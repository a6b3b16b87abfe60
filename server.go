// Command hookline runs the Hookline webhook service: a GraphQL API for
// managing webhooks, backed by SQLite or MySQL.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/metrics"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/retention"
	"github.com/hookline/hookline/store"
)

// version is reported in the User-Agent of deliveries; set with -ldflags.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "hookline:", err)
		os.Exit(1)
	}
}

// run starts Hookline and blocks until ctx ends, then shuts down gracefully.
// When ready is not nil it receives the listening address once the server
// accepts requests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ready func(addr string)) error {
	cfg, err := LoadConfig(getenv, args)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)

	// The feed outlives the store, so that no committed change is
	// told to a closed feed.
	changes, err := newFeed(ctx, cfg.RedisURL, log)
	if err != nil {
		return err
	}
	defer changes.Close()
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{Logger: log, SecretKey: cfg.SecretKey, MaxOpenConns: cfg.DBMaxConns, Changes: changes})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensureAdminKey(ctx, st, cfg.AdminKey, stdout); err != nil {
		return err
	}

	var stopping atomic.Bool
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("HOOKLINE_METRICS_ADDR: listen on %s: %w", cfg.MetricsAddr, err)
		}
	}
	cfg.Delivery.UserAgent = "Hookline/" + version
	m := metrics.New(st, log)
	cfg.Delivery.Observer = m
	engine := delivery.New(st, cfg.Delivery, log)
	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	engineDone := make(chan error, 1)
	go func() { engineDone <- engine.Run(engineCtx) }()
	// Retention stops with the engine: its batches are short.
	m.WatchOldestEvent(st, log)
	cfg.Retention.Observer = m
	sweeperDone := make(chan error, 1)
	go func() { sweeperDone <- retention.New(st, cfg.Retention, log).Run(engineCtx) }()

	serveErr := make(chan error, 2)
	if metricsLn != nil {
		// Scrapes answer until run returns, through the shutdown.
		metricsSrv := newMetricsServer(ctx, m)
		defer metricsSrv.Close()
		go func() { serveErr <- metricsSrv.Serve(metricsLn) }()
		log.Info("metrics listening", "addr", metricsLn.Addr().String())
	}
	srv := newServer(ctx, httpapi.New(cfg.HTTP, httpapi.Deps{Store: st, Engine: engine, Feed: changes, Metrics: m, Log: log, Stopping: &stopping}))
	log.Info("hookline listening", "addr", ln.Addr().String(), "database", store.RedactURL(cfg.DatabaseURL), "version", version)
	if ready != nil {
		ready(ln.Addr().String())
	}
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// Stop claiming at once while the HTTP server finishes its requests
	// (deliveries they publish now stay in the database for the next
	// process); let the attempts in flight finish and be recorded before
	// the database closes.
	log.Info("shutting down")
	stopping.Store(true)
	stopEngine()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Error("http shutdown", "err", err)
	}
	if err := <-engineDone; err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	if err := <-sweeperDone; err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	log.Info("stopped")
	return nil
}

// A client has readHeaderTimeout to send a request's headers, and a
// keep-alive connection closes after idleTimeout without a request.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// newServer returns an HTTP server for h whose requests' contexts derive
// from ctx. It has no ReadTimeout or WriteTimeout: they would end SSE
// streams and websockets. The handler gives each request's body, and each
// query and mutation, HOOKLINE_REQUEST_TIMEOUT instead.
func newServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}

// newMetricsServer serves m at /metrics, and nothing else, for a listener
// of the metrics' own (HOOKLINE_METRICS_ADDR).
func newMetricsServer(ctx context.Context, m *metrics.Metrics) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return newServer(ctx, mux)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ensureAdminKey makes the configured admin key valid or, on a database
// without any API key, creates one and prints it once.
func ensureAdminKey(ctx context.Context, st *store.Store, configured string, stdout io.Writer) error {
	name := "admin"
	if configured != "" {
		name = "HOOKLINE_ADMIN_KEY"
		k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: "admin", Name: &name, Role: model.ApiKeyRoleAdmin, Hash: model.HashAPIKey(configured)}
		return st.EnsureAPIKey(ctx, k)
	}
	n, err := st.CountAPIKeys(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret := model.NewAPIKeySecret()
	k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: "admin", Name: &name, Role: model.ApiKeyRoleAdmin, Hash: model.HashAPIKey(secret)}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nAdmin API key (shown only this once, keep it safe; send it as Authorization: Bearer <key>):\n\n    %s\n\n", secret)
	return nil
}

// newFeed carries changes to subscribers through Redis when redisURL is
// set, so that subscribers of any process see every process's deliveries;
// in process otherwise.
func newFeed(ctx context.Context, redisURL string, log *slog.Logger) (feed.Feed, error) {
	if redisURL == "" {
		return feed.NewLocal(), nil
	}
	f, err := feed.NewRedis(ctx, redisURL, log)
	if err != nil {
		return nil, fmt.Errorf("HOOKLINE_REDIS_URL: %w", err)
	}
	return f, nil
}
