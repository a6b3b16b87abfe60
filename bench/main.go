// Command bench measures a real Hookline process on this machine. It builds
// the binary, starts it as a child process with a fresh database, drives it
// with real GraphQL clients over HTTP and websockets, receives its deliveries
// on real local HTTP servers, and prints one table of figures (or JSON lines).
//
//	go run ./bench [-db sqlite|mysql] [-scenario NAME|all] [-short] [-json]
//
// A figure that misses its target does not fail the command: it exits 0 when
// every selected scenario ran, and non-zero only when something broke (the
// binary would not build or start, a scenario could not complete, Ctrl-C).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	db       string // sqlite or mysql
	scenario string // a scenario's name or "all"
	short    bool   // about a second per measurement, for CI
	json     bool   // JSON lines instead of a table
	set      settings
}

// settings are extra HOOKLINE_NAME=value settings for every Hookline the
// bench starts; they win over the scenarios' own.
type settings []string

func (s *settings) String() string { return strings.Join(*s, " ") }

func (s *settings) Set(v string) error {
	name, _, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(name, "HOOKLINE_") {
		return fmt.Errorf("want HOOKLINE_NAME=value, got %q", v)
	}
	*s = append(*s, v)
	return nil
}

// scenario is one measurement; run returns its figures, and an error when
// it could not complete (with whatever figures it got before that).
type scenario struct {
	name  string
	about string
	run   func(ctx context.Context, b *bench) ([]row, error)
}

var scenarios = []scenario{
	{"ceiling", "plain net/http POSTs to a local receiver: this machine's reference", runCeiling},
	{"throughput", "deliveries/s of 20,000 events matching 1, then 10 webhooks", runThroughput},
	{"latency", "publish-to-receipt percentiles at 100 and 1,000 events/s", runLatency},
	{"ingest", "publishEvent calls/s while every delivery fails", runIngest},
	{"fanout", "websocket subscribers: attempt-to-subscriber latency, memory per subscriber", runFanout},
	{"pagination", "first page against a page 900,000 rows deep", runPagination},
	{"outage", "CPU while the receiver is down, then time to drain", runOutage},
	{"broadcast", "broadcastEvent to 10,000 owners of 100,000 webhooks; publishEvent among them", runBroadcast},
	{"retention", "deleting 1,000,000 expired deliveries with their attempts and events; publish→receipt p99 meanwhile", runRetention},
	{"storage", "bytes on disk per delivery: 10,000 deliveries of 1 KiB, 3 attempts each", runStorage},
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, opts, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.db, "db", "sqlite", "database: sqlite (a file in a temp dir) or mysql (MariaDB/MySQL as root on 127.0.0.1:3306)")
	fs.StringVar(&o.scenario, "scenario", "all", "scenario to run, or all: "+scenarioNames())
	fs.BoolVar(&o.short, "short", false, "about a second per measurement and small data sets (CI)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per figure instead of a table")
	fs.Var(&o.set, "set", "HOOKLINE_NAME=value for every Hookline started, over the scenario's own settings (repeatable)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.db != "sqlite" && o.db != "mysql" {
		return o, fmt.Errorf("-db=%q: want sqlite or mysql", o.db)
	}
	if _, err := selectScenarios(o.scenario); err != nil {
		return o, err
	}
	return o, nil
}

func scenarioNames() string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// selectScenarios returns the scenarios to run for -scenario. Throughput is
// reported as a ratio to the ceiling, so selecting it alone runs the
// ceiling first.
func selectScenarios(name string) ([]scenario, error) {
	if name == "all" {
		return scenarios, nil
	}
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	if i < 0 {
		return nil, fmt.Errorf("-scenario=%q: want all or one of %s", name, scenarioNames())
	}
	if name == "throughput" {
		return []scenario{scenarios[0], scenarios[i]}, nil
	}
	return scenarios[i : i+1], nil
}

// run builds Hookline, runs the selected scenarios one after another and
// prints their figures. A scenario that fails is reported and the others
// still run; the error then names the failed ones.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	selected, err := selectScenarios(o.scenario)
	if err != nil {
		return err
	}
	b, err := newBench(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer b.close()

	out := newReporter(stdout, o.json)
	var failed []string
	for _, s := range selected {
		if ctx.Err() != nil {
			break
		}
		b.logf("%s (%s): %s", s.name, o.db, s.about)
		start := time.Now()
		rows, err := s.run(ctx, b)
		for _, r := range rows {
			out.add(r)
		}
		if err != nil {
			failed = append(failed, s.name)
			out.add(row{Scenario: s.name, Figure: "did not complete", Error: err.Error()})
			b.logf("%s failed after %s: %v", s.name, time.Since(start).Round(time.Millisecond), err)
			continue
		}
		b.logf("%s done in %s", s.name, time.Since(start).Round(time.Millisecond))
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("print results: %w", err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d scenario(s) did not complete: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}
