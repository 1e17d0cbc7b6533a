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
	x := New(testTrusted)
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
