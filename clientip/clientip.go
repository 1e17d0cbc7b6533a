// Package clientip finds the client address of a request that may have
// passed through other proxies before reaching Gatehouse.
//
// A request arrives from a peer: the other end of the TCP connection. If the
// peer is one of the trusted proxies given to New, its X-Forwarded-For header
// (or, failing that, its RFC 7239 Forwarded header) lists the hops before it,
// and the client is found by walking that list. The rules:
//
//  1. If the peer is not trusted, the client is the peer. Its
//     X-Forwarded-For and Forwarded headers are ignored; the proxy discards
//     them.
//  2. If the peer is trusted, the X-Forwarded-For entries are walked from the
//     right (the newest entry, written by the peer) to the left. Each entry was
//     written by the hop to its right, so it can be believed only while that
//     hop is trusted. Trusted addresses are walked past; the first untrusted
//     address is the client.
//  3. If every entry is trusted, the client is the leftmost entry.
//  4. An entry that is not an address ("unknown", an obfuscated "_name",
//     garbage) stops the walk, and the client is the last address walked
//     past: the peer if the entry is the rightmost, otherwise the trusted
//     proxy to its right. That hop did not know, or would not say, who sent it
//     the request, so the nearest known address is reported. This answer is
//     always the peer or a trusted proxy, never an address a client chose.
//  5. Several X-Forwarded-For lines form one list, in order, as if joined by
//     commas (RFC 9110, section 5.3). Empty elements are skipped. An entry may
//     have surrounding spaces, a port ("192.0.2.1:5678",
//     "[2001:db8::1]:80") and, for IPv6, brackets.
//  6. Only when there is no X-Forwarded-For line at all is the Forwarded
//     header used: its elements are walked the same way, by their for=
//     parameter. Parameter names are case-insensitive, values may be quoted
//     (unquoted ones that should have been, like for=[2001:db8::1]:80, are
//     accepted too), and ports, obfuscated ones included, are ignored. An
//     element without for=, with two, or that cannot be parsed counts as an
//     entry that is not an address (rule 4). Elements are split from the
//     right, so a client's malformed element, such as an unterminated quote,
//     cannot swallow the element a trusted proxy appended after it.
//
// IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) are treated as the IPv4
// address, in peers, header entries and trusted prefixes alike. IPv6 zones are
// ignored when matching and dropped from header entries.
//
// # Example
//
// A client at 203.0.113.7 goes through proxy A (198.51.100.2) and then proxy
// B (10.0.0.2) to reach Gatehouse, which trusts 198.51.100.0/24 and
// 10.0.0.0/8:
//
//	client 203.0.113.7 -> A 198.51.100.2 -> B 10.0.0.2 -> Gatehouse
//
// A appends the address it saw, then B appends the address it saw, so
// Gatehouse receives from peer 10.0.0.2
//
//	X-Forwarded-For: 203.0.113.7, 198.51.100.2
//
// The peer 10.0.0.2 is trusted, so the header is walked from the right:
// 198.51.100.2 is trusted and walked past; 203.0.113.7 is not, so it is the
// client.
//
// Had the client sent its own "X-Forwarded-For: 1.1.1.1" to A, Gatehouse
// would receive "1.1.1.1, 203.0.113.7, 198.51.100.2". The walk still stops at
// 203.0.113.7, the address A saw, and never reaches the forged 1.1.1.1. Had
// the client connected to Gatehouse directly, its own address would be the
// answer whatever headers it sent.
//
// # Caveat
//
// Because X-Forwarded-For takes precedence, a trusted proxy that writes only
// Forwarded must remove any X-Forwarded-For it receives; otherwise a forged
// X-Forwarded-For would pass through it and be believed. Gatehouse itself
// always writes X-Forwarded-For.
//
// # Counting hops
//
// Walking by address needs every proxy's address, which a CDN in front of
// a load balancer does not publish. A Resolver made with hops N > 0 counts
// instead, as Traefik's ipStrategy depth does: N is the number of proxies
// in front of Gatehouse that append to X-Forwarded-For, the peer included,
// and the client is the Nth entry from the right. (nginx's real_ip_header
// without real_ip_recursive is N = 1; with it, the walk by address above.)
// The trusted prefixes still decide whether the peer is believed at all
// (rule 1); entries are counted, never matched against them. With a CDN at
// 198.51.100.2 in front of a load balancer at 10.0.0.1, N is 2:
//
//	client 203.0.113.7 -> CDN 198.51.100.2 -> LB 10.0.0.1 -> Gatehouse
//	X-Forwarded-For: 203.0.113.7, 198.51.100.2      (from peer 10.0.0.1)
//
// The LB appended 198.51.100.2 (entry 1 from the right) and the CDN
// appended 203.0.113.7 (entry 2), the client. What the client wrote itself
// lies further left and is never reached. Rules 4 to 6 hold as they are:
// empty elements are not counted, lines form one list, an entry that is
// not an address stops the count at the last address counted (the peer or
// an entry a counted proxy wrote), and Forwarded is counted by its for=
// elements when there is no X-Forwarded-For line.
//
// A header with fewer than N entries does not describe the configured
// chain: a proxy was bypassed or does not append, and nothing in it can be
// told apart from what a client wrote. The client is then the peer, and
// the peer is reported as not trusted, so the proxy drops every incoming
// forwarding header (X-Forwarded-Proto and X-Forwarded-Host included)
// rather than pass on a scheme or address a client may have chosen.
//
// Counting is only as sound as the topology: a client that can reach the
// peer without passing through the other N-1 proxies can write the Nth
// entry itself. Let the peer accept only the outer proxies' traffic, or
// walk by address.
package clientip

import (
	"net/http"
	"net/netip"
)

// Resolver finds client addresses given a fixed set of trusted proxies and,
// optionally, a fixed number of hops. It is immutable and safe for
// concurrent use.
type Resolver struct {
	trusted []netip.Prefix
	hops    int // > 0: count this many entries instead of walking by address
}

// New returns a Resolver that trusts the peers in the given prefixes. A nil
// or empty list trusts no one, so every client is its peer. Invalid prefixes
// match nothing. IPv4-mapped IPv6 prefixes (::ffff:10.0.0.0/104) are taken
// as the IPv4 prefix they map. New copies the slice.
//
// hops 0 (or less) walks the headers by address; hops N > 0 takes the Nth
// entry from the right instead (see Counting hops in the package
// documentation), still only from a trusted peer.
func New(trusted []netip.Prefix, hops int) *Resolver {
	x := &Resolver{trusted: make([]netip.Prefix, 0, len(trusted)), hops: max(hops, 0)}
	for _, p := range trusted {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		x.trusted = append(x.trusted, p.Masked())
	}
	return x
}

// Trusted reports whether a is in one of the trusted prefixes.
func (x *Resolver) Trusted(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range x.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the client address of a request received from peer with
// header h (nil is an empty header), and whether the peer's forwarding
// headers are believed: the peer is a trusted proxy and, when counting
// hops, its headers hold at least that many entries. The rules are in the
// package documentation. The client is always peer (unmapped) or an
// address taken from h. Resolve reads the canonical keys
// "X-Forwarded-For" and "Forwarded", as net/http stores them.
func (x *Resolver) Resolve(peer netip.Addr, h http.Header) (client netip.Addr, peerTrusted bool) {
	peer = peer.Unmap()
	if !x.Trusted(peer) {
		return peer, false
	}
	w := walk{x: x, last: peer}
	if xff := h["X-Forwarded-For"]; len(xff) > 0 {
		w.forwardedFor(xff)
	} else {
		w.forwarded(h["Forwarded"])
	}
	if x.hops > 0 && !w.stopped {
		return peer, false // fewer than hops entries
	}
	return w.last, true
}

// walk is the state of one right-to-left walk over a list of hops.
type walk struct {
	x       *Resolver
	last    netip.Addr // the last address walked past; the answer so far
	n       int        // addresses walked past, when counting hops
	stopped bool       // a rule ended the walk, not the end of the list
}

// step takes the next entry leftwards, ok false if it is not an address, and
// reports whether the walk goes on.
func (w *walk) step(a netip.Addr, ok bool) bool {
	if !ok {
		w.stopped = true
		return false
	}
	w.last = a
	if w.x.hops > 0 {
		w.n++
		w.stopped = w.n == w.x.hops
	} else {
		w.stopped = !w.x.Trusted(a)
	}
	return !w.stopped
}

// forwardedFor walks the lines of an X-Forwarded-For header.
func (w *walk) forwardedFor(lines []string) {
	for i := len(lines) - 1; i >= 0; i-- {
		s := lines[i]
		for s != "" {
			var e string
			s, e = cutLast(s)
			if e = trimOWS(e); e == "" {
				continue // RFC 9110 section 5.6.1: empty elements are ignored
			}
			if !w.step(parseNode(e)) {
				return
			}
		}
	}
}

// ParsePeer parses a peer address as net/http puts it in Request.RemoteAddr
// ("192.0.2.1:5678", "[2001:db8::1]:80"), unmapping IPv4-mapped IPv6
// addresses. It does not allocate when it succeeds.
func ParsePeer(remoteAddr string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
