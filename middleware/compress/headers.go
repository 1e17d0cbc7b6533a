package compress

import (
	"net/http"
	"strings"
)

// varyValue is the Vary value added to a response that names no Vary of
// its own, shared like contentEncoding.
var varyValue = []string{"Accept-Encoding"}

// addVary makes h vary on Accept-Encoding: unchanged when a Vary field
// names it or "*" already, a new field line otherwise (field lines form
// one list, RFC 9110 section 5.3).
func addVary(h http.Header) {
	vs := h["Vary"]
	for _, v := range vs {
		if hasToken(v, "*") || hasToken(v, "Accept-Encoding") {
			return
		}
	}
	if len(vs) == 0 {
		h["Vary"] = varyValue
		return
	}
	h["Vary"] = append(vs[:len(vs):len(vs)], "Accept-Encoding")
}

// weakenETag marks a strong ETag weak, since the compressed bytes differ
// from those it was computed over. A weak tag stays: it only ever claimed
// semantic equivalence, which compression keeps. A value that is neither
// (not a quoted string) is dropped rather than passed on as if strong.
//
// Weakening, rather than a suffix ("abc-gzip"), keeps revalidation
// working without rewriting requests: If-None-Match compares weakly
// (RFC 9110 section 13.1.2), so the origin matches W/"abc" to its own
// "abc" and answers 304, and that 304 is weakened the same way. The cost
// is that If-Match and If-Range, which compare strongly, never match a
// compressed response's tag; a range request is never compressed anyway.
func weakenETag(h http.Header) {
	v := h["Etag"]
	if len(v) == 0 || strings.HasPrefix(v[0], "W/") {
		return
	}
	if len(v[0]) < 2 || v[0][0] != '"' || v[0][len(v[0])-1] != '"' {
		delete(h, "Etag")
		return
	}
	h["Etag"] = []string{"W/" + v[0]}
}

// encoded reports whether h has a Content-Encoding other than identity
// (which RFC 9110 reserves for Accept-Encoding, but some origins send: it
// means no coding, so the body may still be compressed).
func encoded(h http.Header) bool {
	for _, v := range h["Content-Encoding"] {
		for v != "" {
			var c string
			if c, v = cutElement(v); c != "" && !strings.EqualFold(c, Identity) {
				return true
			}
		}
	}
	return false
}

// noTransform reports whether Cache-Control forbids changing the content
// (RFC 9111 section 5.2.2.6 for responses).
func noTransform(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		if hasToken(v, "no-transform") {
			return true
		}
	}
	return false
}

// hasToken reports whether the comma-separated list v has an element
// equal to tok (ignoring case and, for directives, any "=value").
func hasToken(v, tok string) bool {
	for v != "" {
		var elem string
		elem, v = cutElement(v)
		name, _, _ := strings.Cut(elem, "=")
		if strings.EqualFold(trimOWS(name), tok) {
			return true
		}
	}
	return false
}

// contentLength returns the declared body size, and false when there is
// none or it is not a plain decimal.
func contentLength(h http.Header) (int64, bool) {
	v := h["Content-Length"]
	if len(v) == 0 {
		return 0, false
	}
	s := trimOWS(v[0])
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}
