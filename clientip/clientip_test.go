package clientip

import (
	"net/http"
	"net/netip"
	"testing"
)

// testTrusted is the trusted set of most tests: proxy A's network, a private
// network, an IPv6 proxy network and an IPv4 network written IPv4-mapped.
var testTrusted = []netip.Prefix{
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:a::/48"),
	netip.MustParsePrefix("::ffff:192.0.2.128/121"),
}

// header builds a request header; nil slices leave the header out.
func header(xff, fwd []string) http.Header {
	h := http.Header{}
	if xff != nil {
		h["X-Forwarded-For"] = xff
	}
	if fwd != nil {
		h["Forwarded"] = fwd
	}
	return h
}

func TestResolve(t *testing.T) {
	type L = []string
	tests := []struct {
		name     string
		peer     string
		xff, fwd []string
		want     string
		trusted  bool
	}{
		// Untrusted peers: headers are never believed.
		{"untrusted peer, spoofed XFF", "203.0.113.9", L{"1.1.1.1"}, nil, "203.0.113.9", false},
		{"untrusted peer, spoofed trusted XFF", "203.0.113.9", L{"10.0.0.1"}, nil, "203.0.113.9", false},
		{"untrusted peer, spoofed Forwarded", "203.0.113.9", nil, L{"for=1.1.1.1"}, "203.0.113.9", false},
		{"untrusted peer, no headers", "203.0.113.9", nil, nil, "203.0.113.9", false},

		// The walk from the right.
		{"trusted peer, no headers", "10.0.0.2", nil, nil, "10.0.0.2", true},
		{"client, trusted proxy", "10.0.0.2", L{"203.0.113.7, 10.0.0.5"}, nil, "203.0.113.7", true},
		{"client only", "10.0.0.2", L{"203.0.113.7"}, nil, "203.0.113.7", true},
		{"three hops", "10.0.0.2", L{"203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"client prepends a fake", "10.0.0.2", L{"1.1.1.1, 203.0.113.7"}, nil, "203.0.113.7", true},
		{"client prepends a trusted fake", "10.0.0.2", L{"10.0.0.9, 203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"all trusted", "10.0.0.2", L{"10.0.0.9, 198.51.100.2"}, nil, "10.0.0.9", true},
		{"one trusted entry", "10.0.0.2", L{"10.0.0.9"}, nil, "10.0.0.9", true},

		// Entry syntax.
		{"ports", "10.0.0.2", L{"203.0.113.7:5678, 198.51.100.2:443"}, nil, "203.0.113.7", true},
		{"IPv6 bare", "10.0.0.2", L{"2001:db8::1"}, nil, "2001:db8::1", true},
		{"IPv6 brackets", "10.0.0.2", L{"[2001:db8::1]"}, nil, "2001:db8::1", true},
		{"IPv6 brackets and port", "10.0.0.2", L{"[2001:db8::1]:80, [2001:db8:a::5]:443"}, nil, "2001:db8::1", true},
		{"IPv6 trusted hop", "2001:db8:a::1", L{"203.0.113.7, 2001:db8:a::2"}, nil, "203.0.113.7", true},
		{"IPv6 zone dropped", "10.0.0.2", L{"fe80::1%eth0"}, nil, "fe80::1", true},
		{"IPv4-mapped entries", "10.0.0.2", L{"::ffff:203.0.113.7, ::ffff:198.51.100.2"}, nil, "203.0.113.7", true},
		{"spaces and tabs", "10.0.0.2", L{"  203.0.113.7 ,\t198.51.100.2\t"}, nil, "203.0.113.7", true},
		{"empty elements", "10.0.0.2", L{",203.0.113.7,, ,198.51.100.2,"}, nil, "203.0.113.7", true},
		{"empty line only", "10.0.0.2", L{""}, nil, "10.0.0.2", true},

		// Several lines are one list.
		{"lines: fake in an earlier line", "10.0.0.2", L{"1.1.1.1, 203.0.113.7", "198.51.100.2"}, nil, "203.0.113.7", true},
		{"lines: later line is newer", "10.0.0.2", L{"10.0.0.9", "203.0.113.7"}, nil, "203.0.113.7", true},
		{"lines: walk crosses lines", "10.0.0.2", L{"203.0.113.7", "10.0.0.9, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"lines: all trusted", "10.0.0.2", L{"10.0.0.8", "", "10.0.0.9"}, nil, "10.0.0.8", true},

		// Entries that are not addresses stop the walk at the last address
		// walked past, which is always the peer or a trusted proxy.
		{"garbage rightmost", "10.0.0.2", L{"203.0.113.7, unknown"}, nil, "10.0.0.2", true},
		{"garbage after a trusted hop", "10.0.0.2", L{"203.0.113.7, garbage, 198.51.100.2"}, nil, "198.51.100.2", true},
		{"garbage left of the client", "10.0.0.2", L{"garbage, 203.0.113.7, 198.51.100.2"}, nil, "203.0.113.7", true},
		{"garbage only", "10.0.0.2", L{"not an address"}, nil, "10.0.0.2", true},
		{"garbage in a later line", "10.0.0.2", L{"203.0.113.7", "x"}, nil, "10.0.0.2", true},
		{"garbage: five octets", "10.0.0.2", L{"1.2.3.4.5"}, nil, "10.0.0.2", true},
		{"garbage: open bracket", "10.0.0.2", L{"[2001:db8::1"}, nil, "10.0.0.2", true},
		{"garbage: IPv4 in brackets", "10.0.0.2", L{"[203.0.113.7]"}, nil, "10.0.0.2", true},
		{"garbage: named port", "10.0.0.2", L{"203.0.113.7:http"}, nil, "10.0.0.2", true},
		{"garbage: long port", "10.0.0.2", L{"203.0.113.7:123456"}, nil, "10.0.0.2", true},
		{"garbage: quoted", "10.0.0.2", L{`"203.0.113.7"`}, nil, "10.0.0.2", true},
		{"garbage: obfuscated", "10.0.0.2", L{"_hidden"}, nil, "10.0.0.2", true},
		{"garbage: inner space", "10.0.0.2", L{"203.0.113.7 1.1.1.1"}, nil, "10.0.0.2", true},

		// IPv4-mapped IPv6 peers are their IPv4 address.
		{"mapped trusted peer", "::ffff:10.0.0.2", L{"203.0.113.7"}, nil, "203.0.113.7", true},
		{"mapped untrusted peer", "::ffff:203.0.113.9", L{"1.1.1.1"}, nil, "203.0.113.9", false},
		{"peer in mapped prefix", "192.0.2.130", L{"203.0.113.7"}, nil, "203.0.113.7", true},
		{"peer outside mapped prefix", "192.0.2.1", L{"203.0.113.7"}, nil, "192.0.2.1", false},

		// Forwarded, used only without X-Forwarded-For.
		{"fwd: two elements", "10.0.0.2", nil, L{"for=203.0.113.7, for=198.51.100.2"}, "203.0.113.7", true},
		{"fwd: fake prepended", "10.0.0.2", nil, L{"for=1.1.1.1, for=203.0.113.7"}, "203.0.113.7", true},
		{"fwd: all trusted", "10.0.0.2", nil, L{"for=10.0.0.9, for=198.51.100.2"}, "10.0.0.9", true},
		{"fwd: quoted", "10.0.0.2", nil, L{`for="203.0.113.7"`}, "203.0.113.7", true},
		{"fwd: quoted port", "10.0.0.2", nil, L{`for="203.0.113.7:4711"`}, "203.0.113.7", true},
		{"fwd: IPv6", "10.0.0.2", nil, L{`for="[2001:db8::1]"`}, "2001:db8::1", true},
		{"fwd: IPv6 port", "10.0.0.2", nil, L{`for="[2001:db8::1]:4711", for="[2001:db8:a::5]"`}, "2001:db8::1", true},
		{"fwd: obfuscated port", "10.0.0.2", nil, L{`for="[2001:db8::1]:_p0rt"`}, "2001:db8::1", true},
		{"fwd: unquoted IPv6 tolerated", "10.0.0.2", nil, L{`for=[2001:db8::1]:80`}, "2001:db8::1", true},
		{"fwd: quoted-pair", "10.0.0.2", nil, L{`for="\[2001:db8::1\]"`}, "2001:db8::1", true},
		{"fwd: mixed case", "10.0.0.2", nil, L{"For=203.0.113.7;PROTO=https;By=10.0.0.2"}, "203.0.113.7", true},
		{"fwd: FOR after others", "10.0.0.2", nil, L{"proto=http;FOR=203.0.113.7"}, "203.0.113.7", true},
		{"fwd: spaces", "10.0.0.2", nil, L{" for=203.0.113.7 ; proto=http ,  for=10.0.0.9 "}, "203.0.113.7", true},
		{"fwd: empty pairs and elements", "10.0.0.2", nil, L{"for=203.0.113.7;;proto=http,,"}, "203.0.113.7", true},
		{"fwd: several lines", "10.0.0.2", nil, L{"for=1.1.1.1, for=203.0.113.7", "for=198.51.100.2"}, "203.0.113.7", true},
		{"fwd: comma in a quoted value", "10.0.0.2", nil, L{`for=203.0.113.7;ext="a,b"`}, "203.0.113.7", true},
		{"fwd: escaped quote in a value", "10.0.0.2", nil, L{`for=203.0.113.7;ext="a\",b"`}, "203.0.113.7", true},
		{"fwd: client's open quote", "10.0.0.2", nil, L{`for="1.1.1.1, for=203.0.113.7`}, "203.0.113.7", true},
		{"fwd: unknown rightmost", "10.0.0.2", nil, L{"for=203.0.113.7, for=unknown"}, "10.0.0.2", true},
		{"fwd: unknown quoted", "10.0.0.2", nil, L{`for=203.0.113.7, for="unknown"`}, "10.0.0.2", true},
		{"fwd: obfuscated after trusted", "10.0.0.2", nil, L{"for=203.0.113.7, for=_hidden, for=198.51.100.2"}, "198.51.100.2", true},
		{"fwd: element without for", "10.0.0.2", nil, L{"for=203.0.113.7, proto=https"}, "10.0.0.2", true},
		{"fwd: for twice", "10.0.0.2", nil, L{"for=1.1.1.1;for=203.0.113.7"}, "10.0.0.2", true},
		{"fwd: pair without =", "10.0.0.2", nil, L{"for=203.0.113.7;secure"}, "10.0.0.2", true},
		{"fwd: unterminated quote", "10.0.0.2", nil, L{`for="203.0.113.7`}, "10.0.0.2", true},
		{"fwd: escaped closing quote", "10.0.0.2", nil, L{`for="203.0.113.7\"`}, "10.0.0.2", true},
		{"fwd: quote inside token", "10.0.0.2", nil, L{`for=203.0"113.7"`}, "10.0.0.2", true},
		{"fwd: empty value", "10.0.0.2", nil, L{`for=""`}, "10.0.0.2", true},
		{"fwd: ignored with XFF", "10.0.0.2", L{"203.0.113.7"}, L{"for=1.1.1.1"}, "203.0.113.7", true},
		{"fwd: ignored with empty XFF", "10.0.0.2", L{""}, L{"for=1.1.1.1"}, "10.0.0.2", true},
	}
	x := New(testTrusted, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, trusted := x.Resolve(netip.MustParseAddr(tt.peer), header(tt.xff, tt.fwd))
			if got != netip.MustParseAddr(tt.want) || trusted != tt.trusted {
				t.Errorf("Resolve = %v, %v; want %v, %v", got, trusted, tt.want, tt.trusted)
			}
		})
	}
}

func TestResolveNoTrustedProxies(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.2")
	h := header([]string{"203.0.113.7"}, []string{"for=203.0.113.8"})
	for _, x := range []*Resolver{New(nil, 0), New([]netip.Prefix{}, 0)} {
		if got, trusted := x.Resolve(peer, h); got != peer || trusted {
			t.Errorf("Resolve = %v, %v; want %v, false", got, trusted, peer)
		}
	}
}

func TestResolveNilHeader(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.2")
	if got, trusted := New(testTrusted, 0).Resolve(peer, nil); got != peer || !trusted {
		t.Errorf("Resolve = %v, %v; want %v, true", got, trusted, peer)
	}
}

func TestTrusted(t *testing.T) {
	x := New([]netip.Prefix{
		netip.PrefixFrom(netip.MustParseAddr("10.1.2.3"), 8), // host bits set
		netip.MustParsePrefix("::ffff:192.0.2.0/120"),
		netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("2001:db8::1/128"),
		{}, // invalid: matches nothing
	}, 0)
	tests := []struct {
		addr string
		want bool
	}{
		{"10.9.9.9", true},
		{"11.0.0.1", false},
		{"192.0.2.7", true},
		{"::ffff:192.0.2.7", true},
		{"::ffff:10.0.0.1", true},
		{"fe80::1%eth0", true},
		{"2001:db8::1", true},
		{"2001:db8::2", false},
		{"0.0.0.0", false},
		{"::", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := x.Trusted(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Trusted = %v, want %v", got, tt.want)
			}
		})
	}
	if x.Trusted(netip.Addr{}) {
		t.Error("the zero Addr is trusted")
	}
}

func TestNewCopies(t *testing.T) {
	p := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	x := New(p, 0)
	p[0] = netip.MustParsePrefix("192.0.2.0/24")
	if !x.Trusted(netip.MustParseAddr("10.0.0.1")) {
		t.Error("New did not copy its argument")
	}
}

func TestParsePeer(t *testing.T) {
	tests := []struct {
		in, want string // want "" means not ok
	}{
		{"1.2.3.4:5", "1.2.3.4"},
		{"[::1]:5", "::1"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"[::ffff:1.2.3.4]:5", "1.2.3.4"},
		{"[fe80::1%eth0]:5", "fe80::1%eth0"},
		{"1.2.3.4", ""},
		{"::1", ""},
		{"", ""},
		{"@", ""},
		{"example.com:80", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParsePeer(tt.in)
			if tt.want == "" {
				if ok {
					t.Errorf("ParsePeer = %v, true; want false", got)
				}
				return
			}
			if !ok || got != netip.MustParseAddr(tt.want) {
				t.Errorf("ParsePeer = %v, %v; want %v, true", got, ok, tt.want)
			}
		})
	}
}

// hotCases are the requests Resolve must serve without allocating.
var hotCases = []struct {
	name string
	peer string
	h    http.Header
}{
	{"untrusted", "203.0.113.9", header([]string{"1.1.1.1"}, nil)},
	{"no XFF", "10.0.0.2", header(nil, nil)},
	{"XFF 3 entries", "10.0.0.2", header([]string{"203.0.113.7, 198.51.100.2, 10.0.0.9"}, nil)},
	{"XFF IPv6 ports", "10.0.0.2", header([]string{"[2001:db8::1]:80, [2001:db8:a::5]:443"}, nil)},
	{"XFF 2 lines", "10.0.0.2", header([]string{"203.0.113.7", "198.51.100.2"}, nil)},
	{"XFF unknown", "10.0.0.2", header([]string{"203.0.113.7, unknown"}, nil)},
	{"Forwarded", "10.0.0.2", header(nil, []string{`for=203.0.113.7;proto=https, for="[2001:db8:a::5]:443"`})},
	{"Forwarded unknown", "10.0.0.2", header(nil, []string{`for=unknown, for=_hidden`})},
}

func TestResolveAllocs(t *testing.T) {
	x := New(testTrusted, 0)
	for _, c := range hotCases {
		peer := netip.MustParseAddr(c.peer)
		if n := testing.AllocsPerRun(100, func() { x.Resolve(peer, c.h) }); n != 0 {
			t.Errorf("%s: %v allocations, want 0", c.name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { ParsePeer("[2001:db8::1]:443") }); n != 0 {
		t.Errorf("ParsePeer: %v allocations, want 0", n)
	}
}

func BenchmarkResolve(b *testing.B) {
	x := New(testTrusted, 0)
	for _, c := range hotCases {
		peer := netip.MustParseAddr(c.peer)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.Resolve(peer, c.h)
			}
		})
	}
}

func BenchmarkParsePeer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ParsePeer("203.0.113.7:54321")
	}
}
