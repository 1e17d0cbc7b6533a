package policy

import (
	"net/http"
	"time"
)

// entityTag splits an entity-tag (RFC 9110 8.8.3) into its opaque-tag
// (with the quotes) and its weakness. "W/" is case-sensitive (%s"W/").
func entityTag(s string) (opaque string, weak, ok bool) {
	s = trimOWS(s)
	if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
		weak, s = true, s[2:]
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false, false
	}
	for i := 1; i < len(s)-1; i++ {
		// etagc = %x21 / %x23-7E / obs-text
		if c := s[i]; c <= 0x20 || c == '"' || c == 0x7f {
			return "", false, false
		}
	}
	return s, weak, true
}

// StrongMatch reports whether entity-tags a and b are equivalent under the
// strong comparison of RFC 9110 8.8.3.2: neither is weak and their
// opaque-tags match character by character. A malformed tag matches
// nothing.
func StrongMatch(a, b string) bool {
	oa, wa, oka := entityTag(a)
	ob, wb, okb := entityTag(b)
	return oka && okb && !wa && !wb && oa == ob
}

// WeakMatch reports whether entity-tags a and b are equivalent under the
// weak comparison of RFC 9110 8.8.3.2: their opaque-tags match character
// by character, either or both being weak. A malformed tag matches
// nothing.
func WeakMatch(a, b string) bool {
	oa, _, oka := entityTag(a)
	ob, _, okb := entityTag(b)
	return oka && okb && oa == ob
}

// etagOf returns the stored ETag, if it holds one valid entity-tag.
func etagOf(h http.Header) (string, bool) {
	lines := h["Etag"]
	if len(lines) != 1 {
		return "", false
	}
	_, _, ok := entityTag(lines[0])
	return trimOWS(lines[0]), ok
}

// EvaluateConditional evaluates a client's conditional GET or HEAD
// against the stored response header stored that the cache selected to
// answer it, as a cache (RFC 9110 13.2.2, RFC 9111 4.3.2). It returns
// http.StatusNotModified when the client's copy is current, or 0 when the
// request proceeds (the cache sends the stored response in full).
//
//   - If-Match and If-Unmodified-Since are not evaluated: 13.2.2 applies
//     them only "when recipient is the origin server", and RFC 9111 4.3.2
//     says a cache "MUST NOT evaluate conditional header fields that only
//     apply to an origin server" (13.1.1 and 13.1.4: a cache "MAY
//     ignore"). A middleware that wants the origin to answer them forwards
//     the request instead (HasOriginPreconditions).
//   - If-None-Match (13.1.2) is compared with the weak comparison: "*" or a
//     listed tag that matches the stored ETag means 304. When present,
//     If-Modified-Since is ignored (13.1.3).
//   - If-Modified-Since (13.1.3) is ignored when it is not one valid
//     HTTP-date; otherwise 304 when the stored Last-Modified, or its Date
//     when it has none (RFC 9111 4.3.2 SHOULD), is not after it. Without
//     either there is no modification date and the field is ignored.
//   - Any other method gives 0: the cache only answers GET and HEAD, and
//     13.2.1 has preconditions ignored for methods like OPTIONS.
//
// The middleware calls it only with a stored 2xx response (13.2.1: a
// server "MUST ignore all received preconditions" when it would answer
// otherwise), and after a 304 from the origin freshened the stored
// response, to decide between 304 and 200 for the client (4.3.2: a 304
// whose ETag is not in the client's list becomes a 200). 412 is never
// returned by a cache: it comes only from preconditions for the origin.
func EvaluateConditional(method string, req http.Header, stored http.Header) int {
	if method != http.MethodGet && method != http.MethodHead {
		return 0
	}
	if inm := req["If-None-Match"]; len(inm) > 0 {
		etag, hasTag := etagOf(stored)
		for _, line := range inm {
			for line != "" {
				var m string
				if m, line = nextMember(line); m == "" {
					continue
				}
				if m == "*" || (hasTag && WeakMatch(m, etag)) {
					return http.StatusNotModified
				}
			}
		}
		return 0
	}
	ims := req["If-Modified-Since"]
	if len(ims) != 1 {
		return 0
	}
	since, ok := parseDate(ims[0], time.Time{})
	if !ok {
		return 0
	}
	modified, ok := headerDate(stored, "Last-Modified", since)
	if !ok {
		if modified, ok = headerDate(stored, "Date", since); !ok {
			return 0
		}
	}
	if !modified.After(since) {
		return http.StatusNotModified
	}
	return 0
}

// HasOriginPreconditions reports whether the request carries
// preconditions only the origin server evaluates (If-Match,
// If-Unmodified-Since; RFC 9110 13.2.2 steps 1 and 2) or one a cache
// without range support cannot (If-Range, 13.1.5). EvaluateConditional
// ignores them, as a cache may; a middleware that prefers the origin's
// answer (a 412, say) forwards such requests.
func HasOriginPreconditions(req http.Header) bool {
	return len(req["If-Match"]) > 0 || len(req["If-Unmodified-Since"]) > 0 || len(req["If-Range"]) > 0
}
