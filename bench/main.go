// Command bench measures a real Hookline process on this machine: it builds
// and starts the binary, drives it with real GraphQL clients over HTTP and
// websockets, receives its deliveries on real local HTTP servers, and prints
// one table of figures. Usage:
//
//	go run ./bench [-db sqlite|mysql] [-scenario NAME|all] [-short] [-json]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
)

// row is one measured figure.
type row struct {
	Scenario string  `json:"scenario"`
	Figure   string  `json:"figure"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Ratio    string  `json:"ratio,omitempty"`  // to the ceiling, where it applies
	Target   string  `json:"target,omitempty"` // from the issue, where one is set
	Note     string  `json:"note,omitempty"`
}

// env is what every scenario gets.
type env struct {
	db      string
	short   bool
	ceiling float64 // requests/s of a plain client, once measured
}

type scenario struct {
	name string
	run  func(ctx context.Context, e *env) ([]row, error)
}

var scenarios = []scenario{
	{"ceiling", runCeiling},
	{"throughput", runThroughput},
	{"latency", runLatency},
	{"ingest", runIngest},
	{"fanout", runFanout},
	{"pagination", runPagination},
	{"outage", runOutage},
}

func main() {
	db := flag.String("db", "sqlite", "database: sqlite or mysql (MariaDB on 127.0.0.1:3306, root)")
	which := flag.String("scenario", "all", "scenario to run, or all: "+names())
	short := flag.Bool("short", false, "about a second per scenario, to keep the command working in CI")
	asJSON := flag.Bool("json", false, "print JSON lines instead of a table")
	flag.Parse()
	if *db != "sqlite" && *db != "mysql" {
		fmt.Fprintln(os.Stderr, "bench: -db must be sqlite or mysql")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &env{db: *db, short: *short}, *which, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

func run(ctx context.Context, e *env, which string, asJSON bool) error {
	if err := buildHookline(ctx); err != nil {
		return err
	}
	defer cleanupBuild()
	var rows []row
	ran := false
	for _, s := range scenarios {
		if which != "all" && which != s.name && !(s.name == "ceiling" && which == "throughput") {
			continue
		}
		ran = true
		fmt.Fprintf(os.Stderr, "bench: %s (%s)…\n", s.name, e.db)
		r, err := s.run(ctx, e)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if asJSON {
			enc := json.NewEncoder(os.Stdout)
			for _, x := range r {
				enc.Encode(x)
			}
		}
		rows = append(rows, r...)
	}
	if !ran {
		return fmt.Errorf("unknown scenario %q; want all or one of %s", which, names())
	}
	if !asJSON {
		tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "scenario\tfigure\tvalue\tratio to ceiling\ttarget\tnote\n")
		for _, x := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.Scenario, x.Figure, format(x.Value, x.Unit), x.Ratio, x.Target, x.Note)
		}
		tw.Flush()
	}
	return nil
}

func format(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

func ratio(v, ceiling float64) string {
	if ceiling <= 0 {
		return ""
	}
	return fmt.Sprintf("%.0f %%", 100*v/ceiling)
}
