package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Limits of the outgoing client.
const (
	// MaxResponseBody is how much of a response body Send keeps.
	MaxResponseBody = 64 << 10
	// MaxResponseHeaderBytes caps a response's header block. net/http's
	// default is 10 MiB, so a receiver that streams endless headers would
	// make every worker buffer that much.
	MaxResponseHeaderBytes = 64 << 10
	// maxDrain is how much more Send reads and discards so the connection can
	// be reused; a longer body closes the connection instead.
	maxDrain = 64 << 10

	DefaultTimeout         = 15 * time.Second
	DefaultMaxConnsPerHost = 64
)

// ErrDestinationNotAllowed is wrapped by the error of an attempt whose
// destination resolved to an address that is not public, such as loopback,
// private or link-local, when private destinations are not allowed.
var ErrDestinationNotAllowed = errors.New("destination address is not allowed")

// ClientOptions configure NewClient. The zero value is a sensible default.
type ClientOptions struct {
	// Timeout bounds a whole attempt, from dialing to reading the response
	// body. Zero means DefaultTimeout.
	Timeout time.Duration
	// AllowPrivate allows destinations on loopback, private, link-local and
	// other non-public addresses. Only for development and tests.
	AllowPrivate bool
	// MaxConnsPerHost limits the connections to one host. Zero means
	// DefaultMaxConnsPerHost.
	MaxConnsPerHost int
}

// NewClient returns an HTTP client for delivering webhooks. It does not use
// proxies from the environment and does not follow redirects: a 3xx response
// is returned as it is. Unless opts.AllowPrivate, it refuses to connect to
// any address that is not public (loopback, RFC 1918 and RFC 4193 private,
// link-local including 169.254.169.254, CGNAT, multicast, unspecified and
// other special-purpose ranges). The check is made on the address actually
// dialed, after DNS resolution, so a name that resolves to a private address
// (DNS rebinding included) is refused too; such errors wrap
// ErrDestinationNotAllowed.
func NewClient(opts ClientOptions) *http.Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	conns := opts.MaxConnsPerHost
	if conns <= 0 {
		conns = DefaultMaxConnsPerHost
	}

	dialer := &net.Dialer{
		Timeout:   min(10*time.Second, timeout),
		KeepAlive: 30 * time.Second,
	}
	if !opts.AllowPrivate {
		dialer.Control = guardControl(publicOnly)
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    min(10*time.Second, timeout),
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           4 * conns,
		MaxIdleConnsPerHost:    conns,
		MaxConnsPerHost:        conns,
		IdleConnTimeout:        90 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// newGuardian returns the SSRF guard: TCP to public addresses on any port.
func newGuardian() *ssrf.Guardian { return ssrf.New(ssrf.WithAnyPort()) }

// publicOnly is the guard of every client that refuses non-public
// destinations, and of CheckDestination. A Guardian is safe for concurrent use.
var publicOnly = newGuardian()

// guardControl returns a net.Dialer Control function that refuses what g
// refuses, with an error that says why in plain words.
func guardControl(g *ssrf.Guardian) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		err := g.Safe(network, address, c)
		if err == nil {
			return nil
		}
		if errors.Is(err, ssrf.ErrProhibitedIP) {
			ap, perr := netip.ParseAddrPort(address)
			if perr == nil {
				return &destinationError{kind: addrKind(ap.Addr()), err: err}
			}
		}
		return fmt.Errorf("%w: %w", ErrDestinationNotAllowed, err)
	}
}

// destinationError is the error of a dial to a forbidden address. The
// net.OpError around it names the address.
type destinationError struct {
	kind string // such as "loopback" or "private"
	err  error  // from package ssrf
}

func (e *destinationError) Error() string {
	return "destination address is " + e.kind + " and not allowed"
}

func (e *destinationError) Unwrap() []error { return []error{ErrDestinationNotAllowed, e.err} }

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// addrKind names the kind of non-public address a is.
func addrKind(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsMulticast():
		return "multicast"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case cgnat.Contains(a):
		return "shared (CGNAT)"
	}
	return "reserved (not public)"
}

// Request is what one delivery attempt sends.
type Request struct {
	URL    string
	Body   []byte
	Header http.Header
	// secret holds the lower-case names of the webhook's secret headers,
	// which RedactedHeaders hides.
	secret map[string]bool
}

// Response is what came back from a delivery attempt, or why nothing did.
type Response struct {
	// StatusCode is the response's status, 0 when none arrived.
	StatusCode int
	Header     http.Header
	// Body is the start of the response body, at most
	// MaxResponseBody bytes; the rest is discarded.
	Body []byte
	// Duration is the time from sending the request to having read
	// Body.
	Duration time.Duration
	// Err is why no response arrived: an invalid request, a refused
	// destination, a network error or a timeout. It is nil when a response
	// arrived, even if reading its body then failed.
	Err error
}

// Send POSTs req.Body to req.URL with req.Header using c and reports the
// outcome. It never follows redirects itself (see NewClient), reads at most
// MaxResponseBody bytes of the response plus a bounded amount more to keep
// the connection reusable, and gives up when ctx ends.
func Send(ctx context.Context, c *http.Client, req Request) Response {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Response{Err: fmt.Errorf("build request: %w", err)}
	}
	if req.Header != nil {
		hreq.Header = req.Header.Clone()
	}

	start := time.Now()
	resp, err := c.Do(hreq)
	if err != nil {
		// url.Error repeats the method and URL, which the caller knows.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		// The resolver's own address is this host's business, not the
		// webhook owner's: "lookup x on 10.0.0.2:53: no such host".
		if dns, ok := errors.AsType[*net.DNSError](err); ok {
			return Response{Duration: time.Since(start), Err: fmt.Errorf("DNS lookup of %s failed: %s", dns.Name, dns.Err)}
		}
		return Response{Duration: time.Since(start), Err: fmt.Errorf("send request: %w", err)}
	}
	defer resp.Body.Close()

	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	res := Response{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       body,
		Duration:   time.Since(start),
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	return res
}
