package h1

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Refusals of what the fields say.
var (
	errNoHost        = bad("missing required Host header")
	errTwoHosts      = bad("more than one Host header")
	errBadHost       = bad("malformed Host header")
	errBadLength     = bad("invalid Content-Length")
	errTwoLengths    = bad("more than one Content-Length (RFC 9112 section 6.3)")
	errLengthAndTE   = bad("both Content-Length and Transfer-Encoding (RFC 9112 section 6.1: a request smuggling pattern)")
	errTEOnHTTP10    = bad("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 section 6.1)")
	errChunkedNotEnd = bad("Transfer-Encoding does not end in chunked (RFC 9112 section 6.3)")
	errUnknownTE     = &parseError{status: 501, why: "a Transfer-Encoding other than chunked is not implemented"}
	errConnect       = bad("CONNECT is not served: Gatehouse is not a forward proxy")
	errAsterisk      = bad("the request target * is for OPTIONS only")
	errAbsolute      = bad("an absolute request target must be http or https")
	errURL           = bad("malformed request target")
	errBadTrailer    = bad("a Trailer names a field a trailer may not hold")
	errExpect        = &parseError{status: 417, why: "an Expect other than 100-continue (RFC 9110 section 10.1.1)"}
)

// message is what the engine keeps of a request beyond *http.Request:
// how its body is framed and what the connection does after it.
type message struct {
	chunked bool
	length  int64 // the body's length; -1 with chunked
	close   bool  // the connection ends after the answer
	cont    bool  // Expect: 100-continue
	upgrade bool  // Connection: upgrade (a hijack may follow)
	// unknownTE: a coding other than chunked is listed before it.
	unknownTE bool
}

// reqMem is room for what a request points to, kept in the request's
// exchange so that a common request costs no allocation of its own for
// them: its URL and the values of up to len(values) header fields.
type reqMem struct {
	url    url.URL
	values [16]string
}

// newRequest turns a parsed head into the request the handlers see. All
// its strings are cut from one copy of the head's bytes, and the values
// of its header from one slice (in mem when they fit; mem may be nil).
// The names are made canonical in place in b first (b is the engine's
// buffer).
func newRequest(b []byte, h *head, r *http.Request, m *message, mem *reqMem) *parseError {
	for _, f := range h.fields {
		canonicalize(f.name.of(b))
	}
	s := string(b[:h.size])
	r.Method = method(b[h.method.off:h.method.end], s)
	if r.Method == "CONNECT" {
		return errConnect
	}
	r.RequestURI = s[h.target.off:h.target.end]
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	if h.minor == 0 {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	hdr := make(http.Header, len(h.fields))
	var values []string
	if mem != nil && len(h.fields) <= len(mem.values) {
		values = mem.values[:len(h.fields)]
	} else {
		values = make([]string, len(h.fields))
	}
	var hosts, lengths, tes, trailers int
	var host, length string
	*m = message{length: 0}
	for i, f := range h.fields {
		name := fieldName(b[f.name.off:f.name.end], s, f.name)
		v := s[f.value.off:f.value.end]
		switch name {
		case "Host":
			hosts++
			host = v
			continue // net/http's server keeps Host out of the header
		case "Content-Length":
			lengths++
			length = v
		case "Transfer-Encoding":
			tes++
			if err := transferCoding(v, m); err != nil {
				return err
			}
			continue // as net/http: r.TransferEncoding says it
		case "Connection":
			connectionTokens(v, m)
		case "Expect":
			if !asciiEqualFold(v, "100-continue") {
				return errExpect
			}
			m.cont = h.minor == 1 // an HTTP/1.0 client does not wait for a 100
		case "Trailer":
			trailers++
		}
		if vs := hdr[name]; vs != nil {
			hdr[name] = append(vs, v)
			continue
		}
		values[i] = v
		hdr[name] = values[i : i+1 : i+1]
	}
	r.Header = hdr
	if err := framing(r, m, lengths, length, tes); err != nil {
		return err
	}
	if trailers > 0 && m.chunked {
		if err := declaredTrailers(r); err != nil {
			return err
		}
	}
	if err := target(r, h, s, mem); err != nil {
		return err
	}
	switch {
	case hosts > 1:
		return errTwoHosts
	case hosts == 0 && r.ProtoMinor == 1: // even with an absolute target (RFC 9112 section 3.2)
		return errNoHost
	case hosts == 1 && !httpguts.ValidHostHeader(host):
		return errBadHost
	}
	if r.Host = r.URL.Host; r.Host == "" {
		r.Host = host
	}
	if r.RequestURI == "*" && r.Method != "OPTIONS" {
		return errAsterisk
	}
	if p, ok := hdr["Pragma"]; ok && len(p) > 0 && p[0] == "no-cache" && hdr["Cache-Control"] == nil {
		hdr["Cache-Control"] = []string{"no-cache"} // as net/http, for HTTP/1.0 caches
	}
	if r.ProtoMinor == 0 && !m.close {
		m.close = !keepAlive10(hdr)
	}
	r.Close = m.close
	return nil
}

// framing sets the body's length from Content-Length and
// Transfer-Encoding (RFC 9112 section 6.3), refusing every ambiguity.
func framing(r *http.Request, m *message, lengths int, length string, tes int) *parseError {
	if tes > 0 {
		if lengths > 0 {
			m.close = true
			return errLengthAndTE
		}
		if r.ProtoMinor == 0 {
			m.close = true
			return errTEOnHTTP10
		}
		if !m.chunked {
			return errChunkedNotEnd
		}
		if m.unknownTE {
			return errUnknownTE
		}
		r.TransferEncoding = chunkedOnly
		r.ContentLength, m.length = -1, -1
		return nil
	}
	if lengths > 1 {
		return errTwoLengths
	}
	if lengths == 1 {
		n, ok := parseLength(length)
		if !ok {
			return errBadLength
		}
		r.ContentLength, m.length = n, n
	}
	return nil
}

var chunkedOnly = []string{"chunked"}

// transferCoding reads one Transfer-Encoding field into m: a list whose
// last coding must be chunked (400 otherwise, RFC 9112 section 6.3), and
// chunked only once. Codings before it are not decoded, so they are
// refused as not implemented (501, RFC 9112 section 6.1) once framing
// has seen that chunked is last.
func transferCoding(v string, m *message) *parseError {
	for c := range strings.SplitSeq(v, ",") {
		c = strings.Trim(c, " \t")
		switch {
		case c == "":
			return errChunkedNotEnd
		case m.chunked:
			return errChunkedNotEnd // something after chunked
		case asciiEqualFold(c, "chunked"):
			m.chunked = true
		default:
			m.unknownTE = true
		}
	}
	return nil
}

// parseLength parses a Content-Length: digits only, no sign, no list,
// no overflow.
func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false // 18 digits cannot overflow an int64
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n, true
}

// connectionTokens notes close and upgrade in a Connection field.
func connectionTokens(v string, m *message) {
	for t := range strings.SplitSeq(v, ",") {
		t = strings.Trim(t, " \t")
		switch {
		case asciiEqualFold(t, "close"):
			m.close = true
		case asciiEqualFold(t, "upgrade"):
			m.upgrade = true
		}
	}
}

// keepAlive10 reports whether an HTTP/1.0 request asked to keep the
// connection open.
func keepAlive10(h http.Header) bool {
	for _, v := range h["Connection"] {
		for t := range strings.SplitSeq(v, ",") {
			if asciiEqualFold(strings.Trim(t, " \t"), "keep-alive") {
				return true
			}
		}
	}
	return false
}

// declaredTrailers moves the Trailer field into r.Trailer's keys, as
// net/http does; the values arrive after the body.
func declaredTrailers(r *http.Request) *parseError {
	tr := http.Header{}
	for _, v := range r.Header["Trailer"] {
		for k := range strings.SplitSeq(v, ",") {
			k = http.CanonicalHeaderKey(strings.Trim(k, " \t"))
			switch k {
			case "":
				continue // an empty list element is ignored (RFC 9110 section 5.6.1.2)
			case "Transfer-Encoding", "Trailer", "Content-Length":
				return errBadTrailer
			}
			tr[k] = nil
		}
	}
	delete(r.Header, "Trailer")
	r.Trailer = tr
	return nil
}

// target parses the request target into r.URL: origin form, absolute
// form (http and https only), or * for OPTIONS.
func target(r *http.Request, h *head, s string, mem *reqMem) *parseError {
	t := r.RequestURI
	if t == "*" {
		r.URL = &url.URL{Path: "*"}
		return nil
	}
	if t[0] == '/' && plainTarget(t) {
		// The common case, which url.ParseRequestURI would answer the
		// same way, without its allocations.
		var u *url.URL
		if mem != nil {
			u = &mem.url
			*u = url.URL{Path: t}
		} else {
			u = &url.URL{Path: t}
		}
		if q := strings.IndexByte(t, '?'); q >= 0 {
			u.Path, u.RawQuery = t[:q], t[q+1:]
			u.ForceQuery = q == len(t)-1
		}
		r.URL = u
		return nil
	}
	u, err := url.ParseRequestURI(t)
	if err != nil {
		return errURL
	}
	if t[0] != '/' && u.Scheme != "http" && u.Scheme != "https" {
		return errAbsolute
	}
	if t[0] != '/' && u.Host == "" {
		return errAbsolute
	}
	r.URL = u
	return nil
}

// plainTarget reports whether t holds only characters url.URL keeps as
// they are (no escapes to decode, none it would escape), so that its
// Path is t's path and RawPath stays empty.
func plainTarget(t string) bool {
	for i := 0; i < len(t); i++ {
		if !plainChar[t[i]] {
			return false
		}
	}
	return true
}

var plainChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~$&+,;=:@/?" { // url.URL escapes ! ' ( ) *, setting RawPath
		t[c] = true
	}
	return t
}()

// method returns the method, as a constant for the common ones.
func method(b []byte, s string) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "PATCH":
		return "PATCH"
	case "CONNECT":
		return "CONNECT"
	}
	return s[:len(b)]
}

// fieldName returns a canonical name: the common ones as constants, the
// others cut from s.
func fieldName(b []byte, s string, sp span) string {
	if n, ok := commonNames[string(b)]; ok {
		return n
	}
	return s[sp.off:sp.end]
}

var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Length", "Content-Type", "Cookie", "Date",
		"Expect", "Forwarded", "Host", "If-Match", "If-Modified-Since", "If-None-Match",
		"If-Range", "If-Unmodified-Since", "Origin", "Pragma", "Range", "Referer",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "User-Agent", "Via",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id",
		"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol",
		"Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Upgrade-Insecure-Requests",
		"Traceparent", "Tracestate", "X-Api-Key", "Dnt", "Priority",
	} {
		m[n] = n
	}
	return m
}()

// canonicalize rewrites a header name in place the way
// http.CanonicalHeaderKey does: upper case after the start and each
// hyphen, lower case elsewhere. (The name is a token, so there is no
// character it would leave alone instead.)
func canonicalize(b []byte) {
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
}

// asciiEqualFold is strings.EqualFold for ASCII, with no Unicode tables.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
