package clientip

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// The peer of most hops cases is the load balancer 10.0.0.1 of the package
// documentation's CDN example; the CDN is 198.51.100.2.
func TestResolveHops(t *testing.T) {
	type L = []string
	tests := []struct {
		name     string
		hops     int
		peer     string
		xff, fwd []string
		want     string
		trusted  bool
	}{
		// The documented example and what a client adds to it.
		{"CDN and LB", 2, "10.0.0.1", L{"203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"client prepends a fake", 2, "10.0.0.1", L{"1.1.1.1, 203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"client prepends many", 2, "10.0.0.1", L{"6.6.6.6, 10.0.0.9, 1.1.1.1, 203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"one hop", 1, "10.0.0.1", L{"1.1.1.1, 203.0.113.7"}, nil, "203.0.113.7", true},
		{"one hop, one entry", 1, "10.0.0.1", L{"203.0.113.7"}, nil, "203.0.113.7", true},
		{"three hops", 3, "10.0.0.1", L{"1.1.1.1, 203.0.113.7, 198.51.100.2, 10.0.0.5"}, nil, "203.0.113.7", true},

		// Entries are counted, never matched against the trusted prefixes.
		{"trusted entry counted", 2, "10.0.0.1", L{"203.0.113.7, 10.0.0.9"}, nil, "203.0.113.7", true},
		{"untrusted entry counted", 2, "10.0.0.1", L{"203.0.113.7, 1.1.1.1"}, nil, "203.0.113.7", true},
		{"trusted client", 2, "10.0.0.1", L{"10.0.0.8, 10.0.0.9"}, nil, "10.0.0.8", true},

		// The peer must still be trusted.
		{"untrusted peer", 2, "203.0.113.9", L{"1.1.1.1, 2.2.2.2"}, nil, "203.0.113.9", false},
		{"untrusted peer, Forwarded", 1, "203.0.113.9", nil, L{"for=1.1.1.1"}, "203.0.113.9", false},
		{"mapped trusted peer", 1, "::ffff:10.0.0.1", L{"203.0.113.7"}, nil, "203.0.113.7", true},
		{"IPv6 trusted peer", 1, "2001:db8:a::1", L{"203.0.113.7"}, nil, "203.0.113.7", true},

		// Fewer than hops entries: the peer, not trusted.
		{"too few", 2, "10.0.0.1", L{"203.0.113.7"}, nil, "10.0.0.1", false},
		{"too few, trusted entry", 2, "10.0.0.1", L{"10.0.0.9"}, nil, "10.0.0.1", false},
		{"no header", 1, "10.0.0.1", nil, nil, "10.0.0.1", false},
		{"empty line", 1, "10.0.0.1", L{""}, nil, "10.0.0.1", false},
		{"only empty elements", 1, "10.0.0.1", L{" , ,\t,"}, nil, "10.0.0.1", false},
		{"empty lines", 2, "10.0.0.1", L{"", "203.0.113.7", ""}, nil, "10.0.0.1", false},
		{"sixteen wanted, fifteen given", 16, "10.0.0.1", L{entries(15)}, nil, "10.0.0.1", false},
		{"sixteen wanted, sixteen given", 16, "10.0.0.1", L{entries(16)}, nil, "192.0.2.16", true},

		// Entry syntax.
		{"empty elements not counted", 2, "10.0.0.1", L{",203.0.113.7,, ,198.51.100.2,"}, nil, "203.0.113.7", true},
		{"spaces and tabs", 2, "10.0.0.1", L{"  203.0.113.7 ,\t198.51.100.2\t"}, nil, "203.0.113.7", true},
		{"ports", 2, "10.0.0.1", L{"203.0.113.7:5678, 198.51.100.2:443"}, nil, "203.0.113.7", true},
		{"IPv6 bare", 2, "10.0.0.1", L{"2001:db8::1, 198.51.100.2"}, nil, "2001:db8::1", true},
		{"IPv6 brackets and ports", 2, "10.0.0.1", L{"[2001:db8::1]:443, [2001:db8:a::5]:80"}, nil, "2001:db8::1", true},
		{"IPv6 brackets, no port", 2, "10.0.0.1", L{"[2001:db8::1], 198.51.100.2"}, nil, "2001:db8::1", true},
		{"IPv6 zone dropped", 2, "10.0.0.1", L{"fe80::1%eth0, 198.51.100.2"}, nil, "fe80::1", true},
		{"IPv4-mapped entry", 2, "10.0.0.1", L{"::ffff:203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},

		// Several lines are one list.
		{"lines", 2, "10.0.0.1", L{"203.0.113.7", "198.51.100.2"}, nil, "203.0.113.7", true},
		{"lines: fake in an earlier line", 2, "10.0.0.1", L{"1.1.1.1", "203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"lines: count crosses lines", 3, "10.0.0.1", L{"1.1.1.1, 203.0.113.7", "", "198.51.100.2, 10.0.0.5"}, nil, "203.0.113.7", true},
		{"lines: many", 2, "10.0.0.1", append(slices.Repeat(L{"1.1.1.1"}, 100), "203.0.113.7", "198.51.100.2"), nil, "203.0.113.7", true},
		{"lines: many too few", 3, "10.0.0.1", append(slices.Repeat(L{""}, 100), "203.0.113.7", "198.51.100.2"), nil, "10.0.0.1", false},

		// An entry that is not an address stops the count at the last
		// address counted: the peer or an entry a counted proxy wrote.
		{"garbage rightmost", 2, "10.0.0.1", L{"203.0.113.7, unknown"}, nil, "10.0.0.1", true},
		{"garbage at the client's place", 2, "10.0.0.1", L{"unknown, 198.51.100.2"}, nil, "198.51.100.2", true},
		{"garbage left of the client", 2, "10.0.0.1", L{"garbage, 203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"garbage: open bracket", 2, "10.0.0.1", L{"[2001:db8::1, 198.51.100.2"}, nil, "198.51.100.2", true},
		{"garbage: IPv4 in brackets", 2, "10.0.0.1", L{"[203.0.113.7]:80, 198.51.100.2"}, nil, "198.51.100.2", true},
		{"garbage: port without a colon", 2, "10.0.0.1", L{"[2001:db8::1]80, 198.51.100.2"}, nil, "198.51.100.2", true},
		{"garbage: named port", 2, "10.0.0.1", L{"203.0.113.7:http, 198.51.100.2"}, nil, "198.51.100.2", true},
		{"garbage: quoted", 1, "10.0.0.1", L{`"203.0.113.7"`}, nil, "10.0.0.1", true},
		{"garbage: inner space", 1, "10.0.0.1", L{"203.0.113.7 1.1.1.1"}, nil, "10.0.0.1", true},
		{"garbage in a later line", 2, "10.0.0.1", L{"203.0.113.7, 198.51.100.2", "x"}, nil, "10.0.0.1", true},

		// Forwarded, counted by for= when there is no X-Forwarded-For.
		{"fwd: CDN and LB", 2, "10.0.0.1", nil, L{"for=203.0.113.7, for=198.51.100.2"}, "203.0.113.7", true},
		{"fwd: fake prepended", 2, "10.0.0.1", nil, L{"for=1.1.1.1, for=203.0.113.7;proto=https, for=198.51.100.2"}, "203.0.113.7", true},
		{"fwd: IPv6 port", 2, "10.0.0.1", nil, L{`for="[2001:db8::1]:4711", for=198.51.100.2`}, "2001:db8::1", true},
		{"fwd: lines", 2, "10.0.0.1", nil, L{"for=1.1.1.1, for=203.0.113.7", "for=198.51.100.2"}, "203.0.113.7", true},
		{"fwd: too few", 2, "10.0.0.1", nil, L{"for=203.0.113.7"}, "10.0.0.1", false},
		{"fwd: empty elements not counted", 2, "10.0.0.1", nil, L{"for=203.0.113.7,, ,for=198.51.100.2"}, "203.0.113.7", true},
		{"fwd: unknown at the client's place", 2, "10.0.0.1", nil, L{"for=unknown, for=198.51.100.2"}, "198.51.100.2", true},
		{"fwd: element without for", 2, "10.0.0.1", nil, L{"for=203.0.113.7, proto=https"}, "10.0.0.1", true},
		{"fwd: client's open quote", 2, "10.0.0.1", nil, L{`for="1.1.1.1, for=203.0.113.7, for=198.51.100.2`}, "203.0.113.7", true},
		{"fwd: open quote at the client's place", 3, "10.0.0.1", nil, L{`for="1.1.1.1, for=203.0.113.7, for=198.51.100.2`}, "203.0.113.7", true},
		{"fwd: ignored with XFF", 2, "10.0.0.1", L{"203.0.113.7"}, L{"for=1.1.1.1, for=203.0.113.7"}, "10.0.0.1", false},
		{"fwd: ignored with empty XFF", 1, "10.0.0.1", L{""}, L{"for=1.1.1.1"}, "10.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := New(testTrusted, tt.hops)
			got, trusted := x.Resolve(netip.MustParseAddr(tt.peer), header(tt.xff, tt.fwd))
			if got != netip.MustParseAddr(tt.want) || trusted != tt.trusted {
				t.Errorf("Resolve = %v, %v; want %v, %v", got, trusted, tt.want, tt.trusted)
			}
		})
	}
}

// entries returns "192.0.2.1, ..., 192.0.2.n".
func entries(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = netip.AddrFrom4([4]byte{192, 0, 2, byte(n - i)}).String()
	}
	return strings.Join(s, ", ")
}

func TestResolveHopsNeedsTrustedPeer(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.1")
	h := header([]string{"203.0.113.7, 198.51.100.2"}, nil)
	if got, trusted := New(nil, 2).Resolve(peer, h); got != peer || trusted {
		t.Errorf("no trusted prefixes: Resolve = %v, %v; want %v, false", got, trusted, peer)
	}
}

func TestNewNegativeHops(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.2")
	h := header([]string{"203.0.113.7, 198.51.100.2"}, nil)
	want, _ := New(testTrusted, 0).Resolve(peer, h)
	if got, trusted := New(testTrusted, -1).Resolve(peer, h); got != want || !trusted {
		t.Errorf("hops -1: Resolve = %v, %v; want the walk by address, %v, true", got, trusted, want)
	}
}

// hopsHotCases are the counting requests Resolve must serve without
// allocating, with New(testTrusted, 2).
var hopsHotCases = []struct {
	name string
	peer string
	h    http.Header
}{
	{"hops XFF", "10.0.0.1", header([]string{"1.1.1.1, 203.0.113.7, 198.51.100.2"}, nil)},
	{"hops XFF too few", "10.0.0.1", header([]string{"203.0.113.7"}, nil)},
	{"hops XFF IPv6", "10.0.0.1", header([]string{"[2001:db8::1]:80, [2001:db8:a::5]:443"}, nil)},
	{"hops Forwarded", "10.0.0.1", header(nil, []string{`for=203.0.113.7;proto=https, for="[2001:db8:a::5]:443"`})},
}

func TestResolveHopsAllocs(t *testing.T) {
	x := New(testTrusted, 2)
	for _, c := range hopsHotCases {
		peer := netip.MustParseAddr(c.peer)
		if n := testing.AllocsPerRun(100, func() { x.Resolve(peer, c.h) }); n != 0 {
			t.Errorf("%s: %v allocations, want 0", c.name, n)
		}
	}
}

func BenchmarkResolveHops(b *testing.B) {
	x := New(testTrusted, 2)
	for _, c := range hopsHotCases {
		peer := netip.MustParseAddr(c.peer)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.Resolve(peer, c.h)
			}
		})
	}
}
