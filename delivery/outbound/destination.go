package outbound

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Resolver looks up the addresses of a host name; *net.Resolver
// implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// RefusedError says why a client that refuses non-public destinations (see
// NewClient) would refuse every connection to a URL. It wraps
// ErrDestinationNotAllowed.
type RefusedError struct {
	// Host is the URL's host: an IP address or a name.
	Host string
	// Addrs are the addresses Host resolved to, or Host's own address.
	Addrs []netip.Addr
	// byName is whether Host is a name that was looked up.
	byName bool
}

// Reason says in plain words why the destination is refused: "it is a
// loopback address", or "it resolves only to loopback addresses (127.0.0.1,
// ::1)".
func (e *RefusedError) Reason() string {
	kinds := make([]string, len(e.Addrs))
	for i, a := range e.Addrs {
		kinds[i] = addrKind(a)
	}
	if !e.byName {
		article := "a"
		if strings.IndexByte("aeiou", kinds[0][0]) >= 0 {
			article = "an"
		}
		return "it is " + article + " " + kinds[0] + " address"
	}
	list := make([]string, len(e.Addrs))
	for i, a := range e.Addrs {
		list[i] = a.String()
	}
	if len(slices.Compact(slices.Clone(kinds))) == 1 {
		return "it resolves only to " + kinds[0] + " addresses (" + strings.Join(list, ", ") + ")"
	}
	for i := range list {
		list[i] += " " + kinds[i]
	}
	return "it resolves only to addresses that are not public (" + strings.Join(list, ", ") + ")"
}

func (e *RefusedError) Error() string { return e.Host + ": " + e.Reason() }

func (e *RefusedError) Unwrap() error { return ErrDestinationNotAllowed }

// CheckDestination reports, with a *RefusedError, whether a client that
// refuses non-public destinations would refuse every connection to rawURL:
// its host is a loopback, private, link-local or other non-public address,
// or a name that resolves, through r, only to such addresses. It applies the
// guard the client applies when it dials, to the addresses a dial would try.
//
// It returns nil when a delivery may get through: some address is public, or
// the URL cannot be parsed, or the name cannot be resolved now (the lookup
// failed or ctx ended), which says nothing of later. A nil r means
// net.DefaultResolver.
func CheckDestination(ctx context.Context, r Resolver, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	host := u.Hostname()
	// A dial reaches an IPv4-mapped address, as Go's resolver returns IPv4
	// ones, over IPv4: the guard sees the IPv4 address.
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if publicOnly.SafeAddr(a) != nil {
			return &RefusedError{Host: host, Addrs: []netip.Addr{a}}
		}
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
		if publicOnly.SafeAddr(addrs[i]) == nil {
			return nil
		}
	}
	return &RefusedError{Host: host, Addrs: addrs, byName: true}
}
