package ipfilter

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

func TestParseEntries(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the prefix, "" for an error
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"}, // host bits masked
		{"192.0.2.7", "192.0.2.7/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"::/0", "::/0"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"::ffff:0:0/96", "0.0.0.0/0"},
		{"::ffff:0:0/95", "::fffe:0:0/95"}, // wider than the mapped range: IPv6
		{"", ""},
		{" 10.0.0.1", ""},
		{"10.0.0.300", ""},
		{"10.0.0.0/33", ""},
		{"10.0.0.0/", ""},
		{"10.0.0.0/-1", ""},
		{"2001:db8::/129", ""},
		{"fe80::1%eth0", ""},
		{"fe80::%eth0/64", ""},
		{"example.com", ""},
		{"10.0.0.0/8,10.1.0.0/16", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := parseEntry(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Errorf("parsed as %s, want an error", p)
				}
				return
			}
			if err != nil || p != netip.MustParsePrefix(tc.want) {
				t.Errorf("got %s, %v; want %s", p, err, tc.want)
			}
		})
	}
}

func TestParseNamesTheBadEntry(t *testing.T) {
	for _, tc := range []struct {
		allow, deny []string
		want        string
	}{
		{[]string{"10.0.0.0/8", "10.0.0.300"}, nil, `allow[1] "10.0.0.300"`},
		{nil, []string{"::1", "::1/200"}, `deny[1] "::1/200"`},
		{[]string{"10.0.0.0/8"}, []string{"fe80::1%eth0"}, `deny[0] "fe80::1%eth0"`},
	} {
		_, err := Parse(tc.allow, tc.deny)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q, %q): %v, want an error starting %s", tc.allow, tc.deny, err, tc.want)
		}
		if _, err2 := New(Options{Allow: tc.allow, Deny: tc.deny}, nil); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("New: %v, want %v", err2, err)
		}
	}
}

func TestDecision(t *testing.T) {
	var (
		lan     = []string{"10.0.0.0/8", "2001:db8::/32"}
		bad     = []string{"10.6.6.0/24", "2001:db8:bad::/48", "203.0.113.9"}
		noAddr  = netip.Addr{}
		addr    = netip.MustParseAddr
		allowed = true
	)
	for _, tc := range []struct {
		name        string
		allow, deny []string
		addr        netip.Addr
		want        bool
	}{
		{"empty lists", nil, nil, addr("198.51.100.1"), allowed},
		{"empty lists, no address", nil, nil, noAddr, allowed},
		{"in allow", lan, nil, addr("10.1.2.3"), allowed},
		{"not in allow", lan, nil, addr("11.0.0.1"), !allowed},
		{"allow, no address", lan, nil, noAddr, !allowed},
		{"deny only, not denied", nil, bad, addr("198.51.100.1"), allowed},
		{"deny only, denied", nil, bad, addr("203.0.113.9"), !allowed},
		{"deny only, no address", nil, bad, noAddr, allowed},
		{"deny wins over allow", lan, bad, addr("10.6.6.1"), !allowed},
		{"allowed beside the denied /24", lan, bad, addr("10.6.7.1"), allowed},
		{"IPv6 in allow", lan, bad, addr("2001:db8:1::1"), allowed},
		{"IPv6 deny wins", lan, bad, addr("2001:db8:bad::1"), !allowed},
		{"IPv6 not in allow", lan, bad, addr("2001:db9::1"), !allowed},
		{"mapped client compared as IPv4", lan, bad, addr("::ffff:10.1.2.3"), allowed},
		{"mapped client denied as IPv4", lan, bad, addr("::ffff:10.6.6.1"), !allowed},
		{"mapped entry matches IPv4 client", []string{"::ffff:10.0.0.0/104"}, nil, addr("10.9.9.9"), allowed},
		{"mapped entry matches mapped client", []string{"::ffff:10.0.0.0/104"}, nil, addr("::ffff:10.9.9.9"), allowed},
		{"::/0 is no IPv4 client", []string{"::/0"}, nil, addr("10.0.0.1"), !allowed},
		{"::/0 is no mapped client", []string{"::/0"}, nil, addr("::ffff:10.0.0.1"), !allowed},
		{"::/0 is every IPv6 client", []string{"::/0"}, nil, addr("2001:db8::1"), allowed},
		{"0.0.0.0/0 is no IPv6 client", []string{"0.0.0.0/0"}, nil, addr("2001:db8::1"), !allowed},
		{"deny 0.0.0.0/0 leaves IPv6", nil, []string{"0.0.0.0/0"}, addr("::1"), allowed},
		{"zone ignored", lan, nil, addr("2001:db8::1%eth0"), allowed},
		{"first address", []string{"192.0.2.0/24"}, nil, addr("192.0.2.0"), allowed},
		{"last address", []string{"192.0.2.0/24"}, nil, addr("192.0.2.255"), allowed},
		{"one before", []string{"192.0.2.0/24"}, nil, addr("192.0.1.255"), !allowed},
		{"one after", []string{"192.0.2.0/24"}, nil, addr("192.0.3.0"), !allowed},
		{"IPv6 last address", []string{"2001:db8::/64"}, nil, addr("2001:db8::ffff:ffff:ffff:ffff"), allowed},
		{"IPv6 one after", []string{"2001:db8::/64"}, nil, addr("2001:db8:0:1::"), !allowed},
		{"top of the space", []string{"ffff::/16"}, nil, addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), allowed},
		{"bottom of the space", []string{"0.0.0.0/32"}, nil, addr("0.0.0.0"), allowed},
		{"::1", []string{"::1"}, nil, addr("::1"), allowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.allow, tc.deny)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Allowed(tc.addr); got != tc.want {
				t.Errorf("Allowed(%v) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
	var nilFilter *Filter
	if !nilFilter.Allowed(netip.MustParseAddr("10.0.0.1")) || !(&Filter{}).Allowed(netip.Addr{}) {
		t.Error("a nil or zero Filter should allow everyone")
	}
}

// The refused request never reaches the handler and is answered 403
// "forbidden" by the funnel; the list and the address are in the log,
// not in the answer.
func TestMiddleware(t *testing.T) {
	if mw, err := New(Options{}, nil); mw != nil || err != nil {
		t.Errorf("no lists: %v, %v; want no middleware", mw != nil, err)
	}
	var logged bytes.Buffer
	fn := &funnel.Funnel{Log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	mw, err := New(Options{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.6.6.0/24"}}, fn.Fail)
	if err != nil {
		t.Fatal(err)
	}
	reached := false
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	for _, tc := range []struct {
		name   string
		client netip.Addr
		status int
		log    string
	}{
		{"allowed", netip.MustParseAddr("10.1.1.1"), 200, ""},
		{"denied", netip.MustParseAddr("10.6.6.6"), 403, "client 10.6.6.6 is in the deny list"},
		{"not allowed", netip.MustParseAddr("192.0.2.1"), 403, "client 192.0.2.1 is not in the allow list"},
		{"no address", netip.Addr{}, 403, "no IP address (a Unix socket peer)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached = false
			logged.Reset()
			r := httptest.NewRequest("GET", "/", nil)
			ctx, info := reqinfo.NewContext(r.Context())
			info.ClientIP = tc.client
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r.WithContext(ctx))
			if rec.Code != tc.status || reached != (tc.status == 200) {
				t.Fatalf("status %d, reached %v; want %d", rec.Code, reached, tc.status)
			}
			if tc.status == 200 {
				return
			}
			if body := rec.Body.String(); body != "403 forbidden\n" {
				t.Errorf("body %q tells the client more than forbidden", body)
			}
			if !errors.Is(info.Err, funnel.ErrForbidden) || !strings.Contains(logged.String(), tc.log) {
				t.Errorf("error %v, log %q; want ErrForbidden and %q", info.Err, logged.String(), tc.log)
			}
		})
	}
}

func TestEmptyFilterMiddlewareIsTheHandler(t *testing.T) {
	next := http.NewServeMux() // comparable, unlike a HandlerFunc
	for _, f := range []*Filter{nil, {}, mustParse(t, nil, nil)} {
		if got := f.Middleware(nil)(next); got != http.Handler(next) {
			t.Errorf("%v: the middleware of an empty filter should return next itself", f)
		}
	}
}

func mustParse(t testing.TB, allow, deny []string) *Filter {
	t.Helper()
	f, err := Parse(allow, deny)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
