package policy

import (
	"net/http"
	"net/textproto"
)

// Reasons Storable gives for refusing a response. They are tokens, fit
// for a Cache-Status detail (RFC 9211 2.8).
const (
	ReasonMethod         = "method"           // not a GET (3: the method must be understood)
	ReasonStatus         = "status"           // not final, or must-understand with a status the cache does not implement (3, 5.2.2.3)
	ReasonPartial        = "partial"          // 206 or 304: the cache combines no ranges (3.3, 3.4)
	ReasonIncomplete     = "incomplete"       // the body was cut short (3.3)
	ReasonNoStore        = "no-store"         // response no-store (5.2.2.5)
	ReasonRequestNoStore = "request-no-store" // request no-store (5.2.1.5)
	ReasonPrivate        = "private"          // unqualified private (5.2.2.7)
	ReasonAuthorization  = "authorization"    // request had Authorization, no public/must-revalidate/s-maxage (3.5)
	ReasonVaryStar       = "vary-star"        // Vary: * never matches (4.1)
	ReasonNotCacheable   = "not-cacheable"    // no explicit freshness, not heuristically cacheable (3)
)

// Storable reports whether a shared cache may store the response to a
// request (RFC 9111 section 3), and when not, why (one of the Reason
// constants). rd and sd are the request's and the response's directives
// (RequestDirectives, ParseCacheControl; with ApplySurrogate applied to
// sd when Surrogate-Control is honoured). complete says whether the whole
// body was received: Content-Length matched, or the chunked body ended.
//
// The checks, in order:
//   - the method is GET, the only one whose responses the cache stores
//     (HEAD requests are answered from stored GET responses, 4.3.5);
//   - the status is final (3), not 429 (RFC 6585 section 4), and neither
//     206 nor 304: the cache
//     neither stores partial content nor combines ranges (3.3 and 3.4 are
//     MAYs, and 3's "understands the response status code" for 206 and 304
//     is not met);
//   - with must-understand (5.2.2.3), the status is understood
//     (Understood), and no-store is then ignored (the SHOULD of 5.2.2.3);
//   - no no-store in the response (5.2.2.5) or the request (5.2.1.5);
//   - no unqualified private (5.2.2.7); a qualified one is fine, the
//     listed fields are dropped by StoredHeader;
//   - no Authorization in the request unless the response has public,
//     must-revalidate or s-maxage (3.5);
//   - the body is complete (3.3: incomplete responses are not stored);
//   - no "Vary: *" (4.1: it never matches; storing it would only serve
//     validation, which the cache does not attempt for such a response);
//   - explicit freshness (public, Expires, max-age, s-maxage) or a
//     heuristically cacheable status (3).
func Storable(method string, reqHeader http.Header, status int, respHeader http.Header, rd, sd Directives, complete bool) (ok bool, reason string) {
	switch {
	case method != http.MethodGet:
		return false, ReasonMethod
	case status < 200 || status > 599:
		return false, ReasonStatus
	case status == http.StatusPartialContent || status == http.StatusNotModified:
		return false, ReasonPartial
	case status == http.StatusTooManyRequests:
		return false, ReasonStatus // RFC 6585 section 4: a 429 MUST NOT be stored
	case sd.MustUnderstand && !Understood(status):
		return false, ReasonStatus
	case sd.NoStore && !sd.MustUnderstand:
		return false, ReasonNoStore
	case rd.NoStore:
		return false, ReasonRequestNoStore
	case sd.Private:
		return false, ReasonPrivate
	case len(reqHeader["Authorization"]) > 0 && !sd.Public && !sd.MustRevalidate && sd.SMaxAge < 0:
		return false, ReasonAuthorization
	case !complete:
		return false, ReasonIncomplete
	}
	if _, star := ParseVary(respHeader); star {
		return false, ReasonVaryStar
	}
	explicit := sd.Public || sd.MaxAge >= 0 || sd.SMaxAge >= 0 || len(respHeader["Expires"]) > 0 || sd.Invalid
	if !explicit && !HeuristicallyCacheable(status) {
		return false, ReasonNotCacheable
	}
	return true, ""
}

// Understood reports whether the cache understands status in the sense of
// RFC 9111 section 3 ("recognizes it and implements all specified
// caching-related behavior"), which is what must-understand (5.2.2.3)
// asks: every final status code RFC 9110 section 15 defines, except 206
// and 304, whose caching behaviour (combining ranges, freshening) is not
// implemented for storage.
func Understood(status int) bool {
	switch status {
	case 200, 201, 202, 203, 204, 205,
		300, 301, 302, 303, 307, 308,
		400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
		500, 501, 502, 503, 504, 505:
		return true
	}
	return false
}

// hopByHop are the fields RFC 9110 7.6.1 has an intermediary remove
// before forwarding (3.1: "this MAY be implemented by doing so before
// storage"), and the proxy-specific fields RFC 9111 3.1 says "MUST NOT be
// stored".
var hopByHop = [...]string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding", "Upgrade",
	"Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization",
}

// excludedFromStorage reports whether field name (canonical) is one a
// cache does not store (3.1), given the response header h and its
// directives d.
func excludedFromStorage(name string, h http.Header, d Directives) bool {
	for _, f := range hopByHop {
		if name == f {
			return true
		}
	}
	if containsString(d.PrivateFields, name) {
		return true
	}
	for _, line := range h["Connection"] {
		for line != "" {
			var m string
			if m, line = nextMember(line); m != "" && equalFold(m, name) {
				return true
			}
		}
	}
	return false
}

// StoredHeader returns a copy of the response header h to store (RFC 9111
// 3.1): without the hop-by-hop fields (Connection and every field it
// names, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade),
// the proxy-specific Proxy-Authenticate, Proxy-Authentication-Info and
// Proxy-Authorization, and the fields a qualified private directive in d
// names (5.2.2.7: a shared cache "MUST NOT store the listed header
// fields"). Every other field, unrecognized ones included, is kept as it
// is. h is not modified and the copy shares no slice with it.
func StoredHeader(h http.Header, d Directives) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if excludedFromStorage(textproto.CanonicalMIMEHeaderKey(k), h, d) {
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

// ServeHeader copies the stored header into dst (the header of the
// response being written) for a response served without validation,
// leaving out the fields a qualified no-cache in d names (5.2.2.4: the
// response may be reused "if the listed header fields are excluded from
// the subsequent response"). Field values are copied so that appending to
// dst never writes into stored. It does not add Age (AgeValue) nor remove
// Surrogate-Control; those are the middleware's.
func ServeHeader(dst, stored http.Header, d Directives) {
	for k, v := range stored {
		if containsString(d.NoCacheFields, textproto.CanonicalMIMEHeaderKey(k)) {
			continue
		}
		dst[k] = append([]string(nil), v...)
	}
}
