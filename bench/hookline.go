package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// modulePath is the module the binary is built from.
const modulePath = "github.com/hookline/hookline"

// mysqlServer is where -db mysql creates its databases, as root without a password.
const mysqlServer = "127.0.0.1:3306"

// Time limits of a Hookline process's life.
const (
	startTimeout = 60 * time.Second // to listen, migrations included
	stopTimeout  = 20 * time.Second // after SIGTERM, before SIGKILL
	dropTimeout  = 30 * time.Second // to drop a MySQL database
	shownLogs    = 20               // warning and error lines shown per process
)

// bench is what every scenario gets: the options, the built binary, and
// the ceiling once measured.
type bench struct {
	opts    options
	bin     string
	tmp     string
	ceiling float64 // requests/s of a plain client; 0 until measured
	log     io.Writer
}

// newBench builds the Hookline binary once into a temporary directory.
func newBench(ctx context.Context, o options, log io.Writer) (*bench, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "hookline-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	b := &bench{opts: o, tmp: tmp, bin: filepath.Join(tmp, "hookline"), log: log}
	b.logf("building %s in %s", modulePath, root)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.close()
		return nil, fmt.Errorf("build hookline: %w\n%s", err, out)
	}
	return b, nil
}

// close removes the binary.
func (b *bench) close() { os.RemoveAll(b.tmp) }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

// dur returns full, or one second with -short.
func (b *bench) dur(full time.Duration) time.Duration {
	if b.opts.short {
		return time.Second
	}
	return full
}

// size returns full, or short with -short.
func (b *bench) size(full, short int) int {
	if b.opts.short {
		return short
	}
	return full
}

// moduleRoot walks up from the working directory to Hookline's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(mod), []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s in the working directory or above it: run from the repository", modulePath)
		}
		dir = parent
	}
}

// hookline is a running Hookline child process with a database of its own.
type hookline struct {
	b     *bench
	cmd   *exec.Cmd
	pid   int
	addr  string // host:port it listens on
	key   string // its admin API key
	dbURL string // HOOKLINE_DATABASE_URL

	// ctx ends when the process exits; its cause says how.
	ctx    context.Context
	cancel context.CancelCauseFunc
	exited chan struct{}

	stopping atomic.Bool
	stopOnce sync.Once
	stopErr  error
	dropDB   func() error

	logMu     sync.Mutex
	logShown  int
	logHidden int
	stderr    tail
}

// start launches Hookline on 127.0.0.1:0 with a fresh database and the
// given extra settings ("HOOKLINE_WORKERS=64"), and returns once it answers
// /livez. The caller must call stop.
func (b *bench) start(ctx context.Context, settings ...string) (*hookline, error) {
	h := &hookline{b: b, key: randomHex(16)}
	if err := h.newDatabase(); err != nil {
		return nil, err
	}
	if err := h.launch(ctx, settings); err != nil {
		return nil, err
	}
	return h, nil
}

// restart stops h but keeps its database, and starts another Hookline on
// it with the same admin key and the given settings, which then owns the
// database. On error nothing is left running and the database is gone.
func (h *hookline) restart(ctx context.Context, settings ...string) (*hookline, error) {
	drop := h.dropDB
	h.dropDB = func() error { return nil }
	if err := h.stop(); err != nil {
		drop()
		return nil, err
	}
	next := &hookline{b: h.b, key: h.key, dbURL: h.dbURL, dropDB: drop}
	if err := next.launch(ctx, settings); err != nil {
		return nil, err
	}
	return next, nil
}

// launch runs the binary on h's database and returns once it answers
// /livez. On error nothing is left running and the database is dropped.
func (h *hookline) launch(ctx context.Context, settings []string) error {
	b := h.b
	h.exited = make(chan struct{})
	env := []string{
		"HOOKLINE_ADDR=127.0.0.1:0",
		"HOOKLINE_DATABASE_URL=" + h.dbURL,
		"HOOKLINE_ADMIN_KEY=" + h.key,
		"HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
		"HOOKLINE_LOG_LEVEL=warn",
	}
	h.cmd = exec.Command(b.bin)
	// Later entries win: the scenario's settings, then -set.
	h.cmd.Env = slices.Concat(environWithout("HOOKLINE_"), env, settings, b.opts.set)
	// Its own process group, so that Ctrl-C reaches only the bench, which
	// then stops it in order; killed if the bench dies.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	announced := make(chan string, 1)
	h.cmd.Stdout = &lineWriter{line: func(l string) { h.stdoutLine(l, announced) }}
	h.cmd.Stderr = &h.stderr
	if err := h.cmd.Start(); err != nil {
		h.dropDatabase()
		return fmt.Errorf("start hookline: %w", err)
	}
	h.pid = h.cmd.Process.Pid
	h.ctx, h.cancel = context.WithCancelCause(ctx)
	go h.wait()

	addr, err := h.waitListening(ctx, announced)
	if err != nil {
		h.stop()
		return err
	}
	h.addr = addr
	if err := h.waitLive(); err != nil {
		h.stop()
		return err
	}
	return nil
}

// wait reaps the process and ends h.ctx with how it exited.
func (h *hookline) wait() {
	err := h.cmd.Wait()
	cause := fmt.Errorf("hookline (pid %d) exited unexpectedly: %v%s", h.pid, exitStatus(err), h.stderr.suffix())
	if h.stopping.Load() {
		cause = errors.New("hookline stopped")
	}
	h.cancel(cause)
	close(h.exited)
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// startWithWebhook starts a Hookline and a receiver, and creates a webhook
// for eventType ("bench.x") at the receiver's /x, for a client of clients
// connections. On error nothing is left running.
func (b *bench) startWithWebhook(ctx context.Context, clients int, eventType string, settings ...string) (*hookline, *receiver, *gqlClient, error) {
	h, err := b.start(ctx, settings...)
	if err != nil {
		return nil, nil, nil, err
	}
	rc, err := startReceiver()
	if err != nil {
		h.stop()
		return nil, nil, nil, err
	}
	c := h.client(clients)
	if _, err := c.createWebhook(h.ctx, rc.url("/"+strings.TrimPrefix(eventType, "bench.")), eventType); err != nil {
		err = h.err("set up", err)
		rc.close()
		h.stop()
		return nil, nil, nil, err
	}
	return h, rc, c, nil
}

// err explains a failed operation: if the process died, that is the reason.
func (h *hookline) err(op string, err error) error {
	if h.ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, context.Cause(h.ctx))
	}
	return fmt.Errorf("%s: %w", op, err)
}

var listeningLine = regexp.MustCompile(`msg="hookline listening" addr=(\S+)`)

// stdoutLine looks for the listening line and shows warnings and errors.
func (h *hookline) stdoutLine(l string, announced chan<- string) {
	if m := listeningLine.FindStringSubmatch(l); m != nil {
		select {
		case announced <- m[1]:
		default:
		}
		return
	}
	if !strings.Contains(l, "level=WARN") && !strings.Contains(l, "level=ERROR") {
		return
	}
	h.logMu.Lock()
	defer h.logMu.Unlock()
	if h.logShown >= shownLogs {
		h.logHidden++
		return
	}
	h.logShown++
	fmt.Fprintf(h.b.log, "hookline[%d]: %s\n", h.pid, l)
}

// waitListening returns the address Hookline listens on. It logs it at
// INFO, which HOOKLINE_LOG_LEVEL=warn hides, so the listening socket is
// also looked for in /proc.
func (h *hookline) waitListening(ctx context.Context, announced <-chan string) (string, error) {
	deadline := time.After(startTimeout)
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case addr := <-announced:
			return addr, nil
		case <-poll.C:
			addr, err := listenAddr(h.pid)
			if err != nil {
				return "", fmt.Errorf("find hookline's address: %w", err)
			}
			if addr != "" {
				return addr, nil
			}
		case <-h.exited:
			return "", fmt.Errorf("hookline would not start: %w", context.Cause(h.ctx))
		case <-ctx.Done():
			return "", context.Cause(ctx)
		case <-deadline:
			return "", fmt.Errorf("hookline did not listen within %s%s", startTimeout, h.stderr.suffix())
		}
	}
}

// waitLive waits for GET /livez to answer 200.
func (h *hookline) waitLive() error {
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+h.addr+"/livez", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return h.err("wait for /livez", err)
		}
	}
}

// stop ends the process (SIGTERM, then SIGKILL) and removes its database.
// It is safe to call more than once.
func (h *hookline) stop() error {
	h.stopOnce.Do(func() {
		h.stopping.Store(true)
		select {
		case <-h.exited:
		default:
			h.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-h.exited:
			case <-time.After(stopTimeout):
				h.b.logf("hookline (pid %d) did not stop within %s of SIGTERM; killing it", h.pid, stopTimeout)
				h.cmd.Process.Kill()
				<-h.exited
			}
		}
		h.logMu.Lock()
		if h.logHidden > 0 {
			fmt.Fprintf(h.b.log, "hookline[%d]: … and %d more warning/error lines\n", h.pid, h.logHidden)
		}
		h.logMu.Unlock()
		h.stopErr = h.dropDatabase()
	})
	return h.stopErr
}

// newDatabase picks a fresh database: a file in a new temp dir, or a new
// MySQL database (Hookline creates it).
func (h *hookline) newDatabase() error {
	if h.b.opts.db == "mysql" {
		name := "hookline_bench_" + randomHex(6)
		h.dbURL = "mysql://root@tcp(" + mysqlServer + ")/" + name + "?parseTime=true"
		h.dropDB = func() error { return dropMySQL(name) }
		return nil
	}
	dir, err := os.MkdirTemp(h.b.tmp, "db-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	h.dbURL = "sqlite://" + filepath.Join(dir, "hookline.db")
	h.dropDB = func() error { return os.RemoveAll(dir) }
	return nil
}

func (h *hookline) dropDatabase() error {
	if err := h.dropDB(); err != nil {
		return fmt.Errorf("remove the database: %w", err)
	}
	return nil
}

// dropMySQL drops a database the bench created; one that never got created is fine.
func dropMySQL(name string) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.Timeout = "root", "tcp", mysqlServer, 5*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// environWithout returns the environment without variables starting with
// prefix, so that the caller's HOOKLINE_* settings do not leak in.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// lineWriter calls line for every complete line written to it.
type lineWriter struct {
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// tail keeps the last few KiB written to it: a process's stderr.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 4096

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailBytes {
		t.buf = t.buf[len(t.buf)-tailBytes:]
	}
	return len(p), nil
}

// suffix returns ": <stderr>" when anything was written, for error messages.
func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(t.buf))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return ": " + strings.Join(lines, " / ")
}
