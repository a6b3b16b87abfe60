// Command receiver is a webhook receiver to try Hookline with on one
// machine. It listens on a local address, verifies each request's
// signature with the Standard Webhooks library, prints the event with its
// verdict, and answers 204 No Content to a valid request and 401
// Unauthorized to any other, which Hookline records as a failed attempt
// and retries.
//
// Usage:
//
//	HOOKLINE_WEBHOOK_SECRET=whsec_… go run ./examples/receiver [-addr 127.0.0.1:9000]
//
// The secret is the one createWebhook returned. The address may also be set
// with RECEIVER_ADDR.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// maxBody is the most of a request body the receiver reads.
const maxBody = 8 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. When ready is not nil it receives the
// listening address once requests are accepted.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ready func(addr string)) error {
	addr := getenv("RECEIVER_ADDR")
	if addr == "" {
		addr = "127.0.0.1:9000"
	}
	fs := flag.NewFlagSet("receiver", flag.ContinueOnError)
	fs.StringVar(&addr, "addr", addr, "listen address (RECEIVER_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, err := newHandler(getenv("HOOKLINE_WEBHOOK_SECRET"), stdout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "receiving webhooks on http://%s/ (Ctrl-C stops)\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		// A connection opened but not yet sending counts as active for 5 s:
		// the sender is going away too, so close what is left.
		return srv.Close()
	}
	return nil
}

// handler verifies and prints webhook requests.
type handler struct {
	wh  *standardwebhooks.Webhook
	mu  sync.Mutex // one event printed at a time
	out io.Writer
}

// newHandler returns the receiver's handler for a Standard Webhooks secret
// (whsec_ followed by base64).
func newHandler(secret string, out io.Writer) (http.Handler, error) {
	if secret == "" {
		return nil, errors.New("HOOKLINE_WEBHOOK_SECRET is not set: give the secret createWebhook returned (whsec_…)")
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return nil, errors.New("HOOKLINE_WEBHOOK_SECRET: want whsec_ followed by base64, as createWebhook returns it")
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("HOOKLINE_WEBHOOK_SECRET: %w", err)
	}
	return &handler{wh: wh, out: out}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "webhooks are POSTed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusRequestEntityTooLarge)
		return
	}
	verdict, status := "valid signature", http.StatusNoContent
	if err := h.wh.Verify(body, r.Header); err != nil {
		verdict, status = "INVALID signature ("+reason(err)+")", http.StatusUnauthorized
	}
	h.print(r, body, verdict)
	w.WriteHeader(status)
}

// reason names what was wrong with a request that failed verification.
func reason(err error) string {
	switch {
	case errors.Is(err, standardwebhooks.ErrRequiredHeaders):
		return "webhook-id, webhook-timestamp or webhook-signature missing"
	case errors.Is(err, standardwebhooks.ErrInvalidHeaders):
		return "malformed webhook-timestamp"
	case errors.Is(err, standardwebhooks.ErrMessageTooOld), errors.Is(err, standardwebhooks.ErrMessageTooNew):
		return "timestamp more than 5 minutes off"
	}
	return "no signature matches the body and the secret"
}

// print writes one event: its verdict, ID and type, then its body.
func (h *handler) print(r *http.Request, body []byte, verdict string) {
	typ := "-"
	var env struct{ Type string }
	if json.Unmarshal(body, &env) == nil && env.Type != "" {
		typ = env.Type
	}
	id := r.Header.Get("webhook-id")
	if id == "" {
		id = "-"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.out, "%s  %s %s %s  %s\n  %s\n", time.Now().Format("15:04:05"), r.URL.Path, id, typ, verdict, bytes.TrimSpace(body))
}
