package policy

import (
	"net/http"
	"strings"
)

// ParseSurrogateControl reads Surrogate-Control, the header an origin
// addresses to surrogates (reverse proxies acting for it) in the W3C Edge
// Architecture note (2001), as CDNs implement it. maxAge is -1 when no
// max-age applies to this cache. Gatehouse honours, of its directives:
//
//   - max-age=N, and max-age=N+M whose "+M" freshness extension is
//     ignored; a malformed value counts as 0, the restrictive reading;
//     several values keep the smallest;
//   - no-store.
//
// A directive targeted at named surrogates ("max-age=60;edge1") is
// ignored: Gatehouse has no device token, so it is not the target.
// no-store-remote (for surrogates far from the origin, such as CDN edges),
// content and unknown directives are ignored too.
func ParseSurrogateControl(h http.Header) (maxAge int64, noStore bool) {
	maxAge = -1
	for _, line := range h["Surrogate-Control"] {
		for line != "" {
			var m string
			if m, line = nextMember(line); m == "" {
				continue
			}
			if hasTarget(m) {
				continue
			}
			name, arg, hasArg := cutArg(m)
			switch {
			case equalFold(name, "no-store"):
				noStore = true
			case equalFold(name, "max-age"):
				v := int64(0)
				if hasArg {
					if i := strings.IndexByte(arg, '+'); i >= 0 {
						arg = arg[:i]
					}
					if n, ok := deltaArg(trimOWS(arg), true); ok {
						v = n
					}
				}
				maxAge = minPresent(maxAge, v)
			}
		}
	}
	return maxAge, noStore
}

// hasTarget reports whether the directive m has a ";" targeted-device
// list outside a quoted string.
func hasTarget(m string) bool {
	for i := 0; i < len(m); i++ {
		switch m[i] {
		case '"':
			n := scanQuoted(m[i:])
			if n < 0 {
				return false
			}
			i += n - 1
		case ';':
			return true
		}
	}
	return false
}

// cutArg splits "name=arg" around the first "=", trimming whitespace.
func cutArg(m string) (name, arg string, hasArg bool) {
	if i := strings.IndexByte(m, '='); i >= 0 {
		return trimOWS(m[:i]), trimOWS(m[i+1:]), true
	}
	return m, "", false
}

// ApplySurrogate returns d with the response's Surrogate-Control applied,
// for a cache that honours it. Its max-age replaces the freshness
// information of Cache-Control (s-maxage, max-age, Expires, and Invalid
// with them); the revalidation requirement an s-maxage carried (RFC 9111
// 5.2.2.10) is kept as ProxyRevalidate, since the origin asked shared
// caches to revalidate stale responses and Surrogate-Control only says how
// long this one stays fresh. Its no-store adds to Cache-Control's and is
// final: it also cancels must-understand, which only overrides the
// no-store of Cache-Control (RFC 9111 5.2.2.3).
// Everything else in d (no-cache, private, must-revalidate, the stale
// extensions) still applies. Without Surrogate-Control, d is returned
// unchanged. The middleware removes the field before the response reaches
// the client.
func ApplySurrogate(d Directives, h http.Header) Directives {
	if len(h["Surrogate-Control"]) == 0 {
		return d
	}
	maxAge, noStore := ParseSurrogateControl(h)
	if maxAge >= 0 {
		d.ProxyRevalidate = d.ProxyRevalidate || d.SMaxAge >= 0
		d.MaxAge, d.SMaxAge, d.Invalid = maxAge, -1, false
	}
	if noStore {
		d.NoStore, d.MustUnderstand = true, false
	}
	return d
}
