package clientip

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzResolve checks, for any headers (a "\n" in xff or fwd separates header
// lines; an empty fwd means no Forwarded header):
//   - an untrusted peer is always the answer;
//   - the answer is the peer or an address written in the headers;
//   - once the walk has stopped at an untrusted address, nothing a client
//     adds to the left of the headers changes the answer;
//   - X-Forwarded-For and the equivalent Forwarded header agree.
func FuzzResolve(f *testing.F) {
	f.Add("10.0.0.2", "203.0.113.7, 198.51.100.2", true, "")
	f.Add("10.0.0.2", "1.1.1.1, 203.0.113.7\n198.51.100.2", true, "")
	f.Add("10.0.0.2", "[2001:db8::1]:80, ::ffff:10.0.0.3, unknown", true, "")
	f.Add("::ffff:10.0.0.2", "", false, `for=1.1.1.1, For="[2001:db8::1]:4711";proto=http`)
	f.Add("10.0.0.2", "", false, `for="1.1.1.1, for=203.0.113.7;by="a,\"b", for=_x`)
	f.Add("203.0.113.9", "1.1.1.1", true, "for=1.1.1.1")
	x := New(testTrusted, 0)
	f.Fuzz(func(t *testing.T, peerText, xff string, hasXFF bool, fwd string) {
		peer, err := netip.ParseAddr(peerText)
		if err != nil || len(xff)+len(fwd) > 512 {
			return
		}
		var xffLines, fwdLines []string
		if hasXFF {
			xffLines = strings.Split(xff, "\n")
		}
		if fwd != "" {
			fwdLines = strings.Split(fwd, "\n")
		}
		got, trusted := x.Resolve(peer, header(xffLines, fwdLines))

		if trusted != x.Trusted(peer) {
			t.Fatalf("peerTrusted = %v, Trusted(peer) = %v", trusted, !trusted)
		}
		if !trusted && got != peer.Unmap() {
			t.Fatalf("untrusted peer %v: client %v", peer, got)
		}
		if got != peer.Unmap() && !writtenIn(got, xffLines) && !writtenIn(got, fwdLines) {
			t.Fatalf("client %v is neither the peer nor in the headers", got)
		}
		if trusted && !x.Trusted(got) {
			checkPrefixes(t, x, peer, xffLines, fwdLines, got)
		}
		if hasXFF {
			if fl, ok := asForwarded(xffLines); ok {
				if g, _ := x.Resolve(peer, header(nil, fl)); g != got {
					t.Fatalf("X-Forwarded-For gives %v, Forwarded %q gives %v", got, fl, g)
				}
			}
		}
	})
}

// checkPrefixes checks that forged entries to the left of the headers, in an
// earlier line or on the first line, do not change the answer want.
func checkPrefixes(t *testing.T, x *Resolver, peer netip.Addr, xffLines, fwdLines []string, want netip.Addr) {
	lines, forged := xffLines, []string{"1.1.1.1", "garbage", `"`, "10.0.0.1"}
	if len(xffLines) == 0 {
		lines, forged = fwdLines, []string{"for=1.1.1.1", `for="1.1.1.1`, `for=1.1.1.1;by="`, `\`, "for=10.0.0.1"}
	}
	for _, p := range forged {
		earlier := append([]string{p}, lines...)
		sameLine := append([]string{p + ", " + lines[0]}, lines[1:]...)
		for _, l := range [][]string{earlier, sameLine} {
			h := header(l, nil)
			if len(xffLines) == 0 {
				h = header(nil, l)
			}
			if got, _ := x.Resolve(peer, h); got != want {
				t.Fatalf("lines %q give %v; without the forged %q, %v", l, got, p, want)
			}
		}
	}
}

// writtenIn reports whether a is written somewhere in lines, as a substring
// that parses to it, possibly after removing backslashes (quoted-pairs).
func writtenIn(a netip.Addr, lines []string) bool {
	for _, l := range lines {
		for _, s := range []string{l, strings.ReplaceAll(l, `\`, "")} {
			for i := range len(s) {
				for j := i + 1; j <= len(s) && j <= i+64; j++ {
					if b, err := netip.ParseAddr(s[i:j]); err == nil && b.Unmap().WithZone("") == a {
						return true
					}
				}
			}
		}
	}
	return false
}

// asForwarded rewrites X-Forwarded-For lines as Forwarded lines with the same
// entries, each quoted, or reports false if an entry cannot be quoted as is.
func asForwarded(xffLines []string) ([]string, bool) {
	out := make([]string, len(xffLines))
	for i, l := range xffLines {
		var elems []string
		for _, e := range strings.Split(l, ",") {
			if e = trimOWS(e); e == "" {
				continue
			}
			if strings.ContainsAny(e, `"\`) {
				return nil, false
			}
			elems = append(elems, `for="`+e+`"`)
		}
		out[i] = strings.Join(elems, ", ")
	}
	return out, true
}

// FuzzResolveHops checks counting resolvers (1 to 4 hops) against a
// reference model written with strings.Split, and for any headers:
//   - an untrusted peer is always the answer;
//   - the answer is the peer or an address written in the headers;
//   - headers that are not believed give the peer;
//   - once the count has stopped, nothing a client adds to the left of
//     the headers changes the answer;
//   - X-Forwarded-For and the equivalent Forwarded header agree.
func FuzzResolveHops(f *testing.F) {
	f.Add("10.0.0.1", "203.0.113.7, 198.51.100.2", true, "", uint8(2))
	f.Add("10.0.0.1", "1.1.1.1\n203.0.113.7,,198.51.100.2", true, "", uint8(2))
	f.Add("10.0.0.1", "[2001:db8::1]:80, unknown, 10.0.0.3", true, "", uint8(3))
	f.Add("10.0.0.1", "203.0.113.7", true, "", uint8(2))
	f.Add("10.0.0.1", "", false, `for="1.1.1.1, for=203.0.113.7;by="a,\"b", for=_x`, uint8(1))
	f.Add("203.0.113.9", "1.1.1.1, 2.2.2.2", true, "", uint8(1))
	f.Fuzz(func(t *testing.T, peerText, xff string, hasXFF bool, fwd string, n uint8) {
		peer, err := netip.ParseAddr(peerText)
		if err != nil || len(xff)+len(fwd) > 512 {
			return
		}
		hops := int(n%4) + 1
		x := New(testTrusted, hops)
		var xffLines, fwdLines []string
		if hasXFF {
			xffLines = strings.Split(xff, "\n")
		}
		if fwd != "" {
			fwdLines = strings.Split(fwd, "\n")
		}
		got, trusted := x.Resolve(peer, header(xffLines, fwdLines))

		if !x.Trusted(peer) && (got != peer.Unmap() || trusted) {
			t.Fatalf("untrusted peer %v: client %v, %v", peer, got, trusted)
		}
		if !trusted && got != peer.Unmap() {
			t.Fatalf("headers not believed, yet client %v is not the peer %v", got, peer)
		}
		if got != peer.Unmap() && !writtenIn(got, xffLines) && !writtenIn(got, fwdLines) {
			t.Fatalf("client %v is neither the peer nor in the headers", got)
		}
		if hasXFF && x.Trusted(peer) {
			if want, wantTrusted := countModel(peer.Unmap(), xffLines, hops); got != want || trusted != wantTrusted {
				t.Fatalf("%d hops over %q: %v, %v; the model says %v, %v", hops, xffLines, got, trusted, want, wantTrusted)
			}
		}
		// A Forwarded element that is not an address may be an open quote
		// a forged prefix closes, so there only a full count is checked.
		if trusted && (hasXFF || countedAll(x, peer, fwdLines)) {
			checkPrefixes(t, x, peer, xffLines, fwdLines, got)
		}
		if hasXFF {
			if fl, ok := asForwarded(xffLines); ok {
				if g, gt := x.Resolve(peer, header(nil, fl)); g != got || gt != trusted {
					t.Fatalf("X-Forwarded-For gives %v, %v; Forwarded %q gives %v, %v", got, trusted, fl, g, gt)
				}
			}
		}
	})
}

// countedAll reports whether counting over Forwarded lines from a trusted
// peer reached the resolver's number of hops.
func countedAll(x *Resolver, peer netip.Addr, fwdLines []string) bool {
	w := walk{x: x, last: peer.Unmap()}
	w.forwarded(fwdLines)
	return w.n == x.hops
}

// countModel is the counting rule over X-Forwarded-For lines from a
// trusted peer, written as plainly as possible: every non-empty element in
// order, then the hops-th from the right, stopping early at one that is
// not an address.
func countModel(peer netip.Addr, lines []string, hops int) (netip.Addr, bool) {
	var all []string
	for _, l := range lines {
		for _, e := range strings.Split(l, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				all = append(all, e)
			}
		}
	}
	if len(all) < hops {
		// Too few unless an entry that is not an address stops the count
		// first.
		for i := len(all) - 1; i >= 0; i-- {
			if _, ok := parseNode(all[i]); !ok {
				return modelAt(peer, all, i), true
			}
		}
		return peer, false
	}
	for i := len(all) - 1; i >= len(all)-hops; i-- {
		if _, ok := parseNode(all[i]); !ok {
			return modelAt(peer, all, i), true
		}
	}
	a, _ := parseNode(all[len(all)-hops])
	return a, true
}

// modelAt is the answer when all[i] is not an address: the entry to its
// right, or the peer.
func modelAt(peer netip.Addr, all []string, i int) netip.Addr {
	if i == len(all)-1 {
		return peer
	}
	a, _ := parseNode(all[i+1])
	return a
}
