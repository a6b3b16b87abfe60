package outbound

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

// fakeResolver answers lookups from a table; a missing name is not found.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a)
	}
	return out, nil
}

func TestCheckDestination(t *testing.T) {
	r := fakeResolver{
		"local.test":  {"127.0.0.1", "::1"},
		"intra.test":  {"10.0.0.7", "fd00::7"},
		"mixed.test":  {"10.0.0.7", "127.0.0.1"},
		"public.test": {"10.0.0.7", "93.184.215.14"},
		"cloud.test":  {"169.254.169.254"},
		// As net.Resolver returns IPv4 addresses.
		"mapped.test":        {"::ffff:127.0.0.1"},
		"mapped-public.test": {"::ffff:93.184.215.14"},
	}
	tests := []struct {
		url, want string // want: the reason, "" when allowed
	}{
		{"http://127.0.0.1:9000/hook", "it is a loopback address"},
		{"https://[::1]/hook", "it is a loopback address"},
		{"http://10.1.2.3/hook", "it is a private address"},
		{"http://169.254.169.254/latest/meta-data", "it is a link-local address"},
		{"http://0.0.0.0:80/", "it is an unspecified address"},
		{"http://100.64.0.1/", "it is a shared (CGNAT) address"},
		{"http://local.test:9000/hook", "it resolves only to loopback addresses (127.0.0.1, ::1)"},
		{"http://intra.test/hook", "it resolves only to private addresses (10.0.0.7, fd00::7)"},
		{"http://mixed.test/hook", "it resolves only to addresses that are not public (10.0.0.7 private, 127.0.0.1 loopback)"},
		{"http://cloud.test/", "it resolves only to link-local addresses (169.254.169.254)"},
		{"http://mapped.test/", "it resolves only to loopback addresses (127.0.0.1)"},
		{"http://[::ffff:10.0.0.1]/", "it is a private address"},
		{"https://mapped-public.test/hook", ""},
		{"https://[::ffff:93.184.215.14]/hook", ""},
		{"https://93.184.215.14/hook", ""},
		{"https://[2606:4700:4700::1111]/hook", ""},
		{"https://public.test/hook", ""},  // one public address: a dial may get through
		{"https://unknown.test/hook", ""}, // not resolvable now: nothing to say
		{"::not a url", ""},
	}
	for _, tt := range tests {
		err := CheckDestination(context.Background(), r, tt.url)
		var refused *RefusedError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckDestination(%s) = %v; want nil", tt.url, err)
		case tt.want != "" && !errors.As(err, &refused):
			t.Errorf("CheckDestination(%s) = %v; want a *RefusedError", tt.url, err)
		case tt.want != "":
			if got := refused.Reason(); got != tt.want {
				t.Errorf("CheckDestination(%s).Reason() = %q; want %q", tt.url, got, tt.want)
			}
			if !errors.Is(err, ErrDestinationNotAllowed) {
				t.Errorf("CheckDestination(%s) = %v; want it to wrap ErrDestinationNotAllowed", tt.url, err)
			}
		}
	}
}

// TestCheckDestinationAgreesWithTheDialer: for an address, CheckDestination
// refuses exactly what the client's dial guard refuses.
func TestCheckDestinationAgreesWithTheDialer(t *testing.T) {
	control := guardControl(publicOnly)
	for _, a := range []string{
		"93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "127.0.0.1", "::1", "::ffff:127.0.0.1",
		"10.0.0.1", "192.168.1.1", "fd00::1", "169.254.169.254", "fe80::1", "100.64.0.1",
		"224.0.0.1", "0.0.0.0", "::", "192.0.2.1", "255.255.255.255", "64:ff9b::7f00:1",
	} {
		addr := netip.MustParseAddr(a)
		network := "tcp4"
		if addr.Is6() {
			network = "tcp6"
		}
		dialErr := control(network, netip.AddrPortFrom(addr, 443).String(), nil)
		checkErr := CheckDestination(context.Background(), nil, "https://"+netip.AddrPortFrom(addr, 443).String()+"/")
		if (dialErr == nil) != (checkErr == nil) {
			t.Errorf("%s: dial guard says %v, CheckDestination says %v; want the same verdict", a, dialErr, checkErr)
		}
	}
}

// TestCheckDestinationLocalhost resolves a real name, from the hosts file.
func TestCheckDestinationLocalhost(t *testing.T) {
	err := CheckDestination(context.Background(), nil, "http://localhost:9000/hook")
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Host != "localhost" {
		t.Fatalf("CheckDestination(http://localhost:9000/hook) = %v; want a *RefusedError for localhost", err)
	}
	t.Log(refused.Reason())
}
