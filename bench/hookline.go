package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

var binDir string

// buildHookline builds the hookline binary once, from the module root.
func buildHookline(ctx context.Context) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if binDir, err = os.MkdirTemp("", "hookline-bench-"); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, "hookline"), ".")
	cmd.Dir, cmd.Stderr = root, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build hookline: %w", err)
	}
	return nil
}

func cleanupBuild() { os.RemoveAll(binDir) }

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// proc is a running Hookline process with a database of its own.
type proc struct {
	cmd     *exec.Cmd
	addr    string
	key     string
	dbURL   string
	cleanup func()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startHookline starts Hookline on a fresh database with extra settings.
func startHookline(ctx context.Context, e *env, extra ...string) (*proc, error) {
	p := &proc{key: "bench-" + randomHex(16), cleanup: func() {}}
	switch e.db {
	case "sqlite":
		dir, err := os.MkdirTemp("", "hookline-bench-db-")
		if err != nil {
			return nil, err
		}
		p.dbURL = "sqlite://" + filepath.Join(dir, "bench.db")
		p.cleanup = func() { os.RemoveAll(dir) }
	case "mysql":
		name := "hookline_bench_" + randomHex(4)
		p.dbURL = "mysql://root@tcp(127.0.0.1:3306)/" + name + "?parseTime=true"
		p.cleanup = func() { dropMySQL(name) }
	}
	cmd := exec.Command(filepath.Join(binDir, "hookline"))
	cmd.Env = append(os.Environ(),
		"HOOKLINE_ADDR=127.0.0.1:0", "HOOKLINE_DATABASE_URL="+p.dbURL, "HOOKLINE_ADMIN_KEY="+p.key,
		"HOOKLINE_ALLOW_PRIVATE_TARGETS=true", "HOOKLINE_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, extra...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		p.cleanup()
		return nil, err
	}
	p.cmd = cmd
	addr := make(chan string, 1)
	listening := regexp.MustCompile(`msg="hookline listening" addr=(\S+)`)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			} else if strings.Contains(sc.Text(), "level=ERROR") {
				fmt.Fprintln(os.Stderr, "hookline:", sc.Text())
			}
		}
	}()
	select {
	case p.addr = <-addr:
		return p, nil
	case <-time.After(60 * time.Second):
	case <-ctx.Done():
	}
	p.stop()
	return nil, errors.New("hookline did not start listening within 60s")
}

func (p *proc) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
	}
	p.cleanup()
}

func (p *proc) client(concurrency int) *gqlClient {
	return newGQLClient("http://"+p.addr+"/graphql", p.key, concurrency)
}

// cpuSeconds is the process's user+system CPU time so far.
func (p *proc) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are the 14th and 15th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

// rssBytes is the process's resident memory.
func (p *proc) rssBytes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func dropMySQL(name string) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", "127.0.0.1:3306"
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return
	}
	defer db.Close()
	db.Exec("DROP DATABASE IF EXISTS `" + name + "`")
}
