package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"
)

// FuzzDifferential reads the same bytes (requests, pipelined, with their
// bodies) with the engine's parser and with net/http's server, and fails
// when one serves a request the other refuses, or when both serve it and
// a handler would see it differently. Where the engine refuses what
// net/http serves, the input must fall in one of the deliberate
// differences below (each a row of differences.md); the engine serving
// what net/http refuses is always a failure.
//
// Everything runs in memory: the engine reads from a net.Conn that
// holds the input, through its own buffer, head scanner and body
// decoder, once in whole reads and once a few bytes at a time (the two
// must agree: a head or a chunk line cut across reads is read the same).
func FuzzDifferential(f *testing.F) {
	for _, s := range diffSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxSelfInput {
			return
		}
		ours := ourRequests(data, 0)
		if cut := ourRequests(data, 1+len(data)%7); !reflect.DeepEqual(ours, cut) {
			t.Fatalf("the engine reads %q differently in pieces:\nwhole:  %s\npieces: %s", data, results(ours), results(cut))
		}
		if len(data) > maxDiffInput {
			return
		}
		std := stdRequests(data)
		if why := diverge(data, ours, std); why != "" {
			t.Fatalf("%s\ninput: %q\nours:    %s\nnet/http: %s", why, data, results(ours), results(std))
		}
	})
}

// maxDiffInput bounds the inputs compared with net/http below its 4 KiB
// read buffer, which limits its chunk lines and trailer sections (where
// the engine's limits are max_header_bytes): within it the two differ by
// syntax only. Larger inputs, up to maxSelfInput, are only read whole and
// in pieces by the engine, for the code that moves and grows its 4 KiB
// buffer.
const (
	maxDiffInput = 4000
	maxSelfInput = 16 << 10
)

// fieldLimit is the engine's default max_header_count, and the harness's.
const fieldLimit = 100

// result is one request read from the input: served (v is set) or
// refused, with the offset of its first byte.
type result struct {
	v      *view
	status int    // a refusal's status; 0 when the input ended mid-head
	why    string // a refusal's reason
	start  int
}

// view is what a handler sees of a request.
type view struct {
	Method, RequestURI string
	URL                url.URL
	Host               string
	Proto              string
	ProtoMinor         int
	Header             http.Header // without Host
	ContentLength      int64
	TransferEncoding   []string
	Close              bool
	Declared           []string // the Trailer keys, sorted, before the body is read
	Body               string   // compared only when both read it whole
	BodyErr            bool
	Trailer            http.Header // after the body; nil when empty
	End                int         // where the request, body included, ends in the input; 0 after a body error
}

func results(rs []result) string {
	var b strings.Builder
	for _, r := range rs {
		if r.v == nil {
			fmt.Fprintf(&b, "\n  @%d refused %d: %s", r.start, r.status, r.why)
			continue
		}
		fmt.Fprintf(&b, "\n  @%d served %+v", r.start, *r.v)
	}
	if len(rs) == 0 {
		b.WriteString("nothing")
	}
	return b.String()
}

// memConn is a connection holding the input, with no time: deadlines
// are no-ops. Reading is all the parser may do (the embedded nil
// net.Conn panics on anything else, which would be a finding).
type memConn struct {
	net.Conn
	data []byte
	step int // bytes per Read at most; 0 for as many as asked
}

func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

func (m *memConn) Read(p []byte) (int, error) {
	if len(m.data) == 0 {
		return 0, io.EOF
	}
	if m.step > 0 && len(p) > m.step {
		p = p[:m.step]
	}
	n := copy(p, m.data)
	m.data = m.data[n:]
	return n, nil
}

// ourRequests reads data as the engine's connection loop does (readHead,
// which calls scanHead, then parseHead and newRequest) and reads each
// body whole, as a handler calling io.ReadAll would.
func ourRequests(data []byte, step int) []result {
	mc := &memConn{data: data, step: step}
	c := &conn{srv: &Server{MaxHeaderBytes: 1 << 20, MaxHeaderCount: fieldLimit}, io: mc}
	c.getBuf()
	defer c.putBufForce()
	consumed := func() int { return len(data) - len(mc.data) - (c.w - c.r) }
	var out []result
	for {
		start := consumed()
		size, err := c.readHead()
		if err != nil {
			var perr *parseError
			switch {
			case errors.As(err, &perr):
				out = append(out, result{status: perr.status, why: perr.why, start: start})
			case c.w > c.r:
				out = append(out, result{why: "the input ends inside a head", start: start})
			}
			return out
		}
		b := c.rb.b[c.r : c.r+size]
		h := &c.rb.head
		var m message
		r := new(http.Request)
		perr := parseHead(b, size, h)
		if perr == nil {
			perr = newRequest(b, h, r, &m, new(reqMem))
		}
		if perr != nil {
			return append(out, result{status: perr.status, why: perr.why, start: start})
		}
		c.r += size
		v := viewOf(r)
		if m.length != 0 {
			bd := &body{c: c, req: r, left: m.length, chunked: m.chunked}
			if m.chunked {
				bd.left = 0
			}
			got, err := io.ReadAll(bd)
			v.Body, v.BodyErr = string(got), err != nil
		}
		v.Trailer = nonEmpty(r.Trailer)
		if !v.BodyErr {
			v.End = consumed()
		}
		out = append(out, result{v: v, start: start})
		if v.BodyErr || m.close {
			return out
		}
	}
}

// stdRequests reads data as net/http's server does: http.ReadRequest,
// then the checks its conn.readRequest and conn.serve add, and the body
// read whole.
func stdRequests(data []byte) []result {
	rd := bytes.NewReader(data)
	br := bufio.NewReader(rd)
	consumed := func() int { return len(data) - rd.Len() - br.Buffered() }
	var out []result
	last := ""
	for {
		if last == "POST" { // "RFC 7230 section 3 tolerance for old buggy clients"
			peek, _ := br.Peek(4)
			br.Discard(numLeadingCRorLF(peek))
		}
		start := consumed()
		r, status, why := stdRequest(br, data[start:])
		if r == nil {
			if status != 0 {
				out = append(out, result{status: status, why: why, start: start})
			}
			return out
		}
		v := viewOf(r)
		got, err := io.ReadAll(r.Body)
		v.Body, v.BodyErr = string(got), err != nil
		v.Trailer = nonEmpty(r.Trailer)
		if !v.BodyErr {
			v.End = consumed()
		}
		out = append(out, result{v: v, start: start})
		if v.BodyErr || r.Close {
			return out
		}
		last = r.Method
	}
}

// stdRequest reads one request from br as net/http's server does; raw
// holds the same bytes, for the header as it was before ReadRequest took
// Host out. A nil request with status 0 is the input's clean end.
func stdRequest(br *bufio.Reader, raw []byte) (*http.Request, int, string) {
	r, err := http.ReadRequest(br)
	if err == io.EOF {
		return nil, 0, ""
	}
	if err != nil {
		if s := err.Error(); strings.Contains(s, "transfer encoding") {
			return nil, 501, s // unsupportedTEError
		}
		return nil, 400, err.Error()
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	tp.ReadLine()
	hdr, _ := tp.ReadMIMEHeader() // it succeeded inside ReadRequest
	h2 := r.Method == "PRI" && r.URL.Path == "*" && r.Proto == "HTTP/2.0" && len(r.Header) == 0 && hdr["Host"] == nil
	if r.ProtoMajor != 1 && !(r.ProtoMajor == 2 && r.ProtoMinor == 0 && r.Method == "PRI" && r.RequestURI == "*") {
		return nil, 505, "unsupported protocol version"
	}
	hosts, haveHost := hdr["Host"]
	if r.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && !h2 && r.Method != "CONNECT" {
		return nil, 400, "missing required Host header"
	}
	if len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return nil, 400, "malformed Host header"
	}
	for k, vv := range hdr {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, 400, "invalid header name"
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, 400, "invalid header value"
			}
		}
	}
	if e := r.Header.Get("Expect"); e != "" && !hasToken(e, "100-continue") {
		return nil, 417, "expectation failed"
	}
	return r, 0, ""
}

func viewOf(r *http.Request) *view {
	v := &view{
		Method: r.Method, RequestURI: r.RequestURI, URL: *r.URL, Host: r.Host,
		Proto: r.Proto, ProtoMinor: r.ProtoMinor, Header: r.Header,
		ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding, Close: r.Close,
	}
	for k := range r.Trailer {
		v.Declared = append(v.Declared, k)
	}
	slices.Sort(v.Declared)
	return v
}

func nonEmpty(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	return h
}

// diverge compares the requests the two read, in order, and says how
// they part where they may not.
func diverge(data []byte, ours, std []result) string {
	prev := ""
	for i := 0; ; i++ {
		var o, s *result
		if i < len(ours) {
			o = &ours[i]
		}
		if i < len(std) {
			s = &std[i]
		}
		switch {
		case o != nil && o.v != nil && (s == nil || s.v == nil):
			return fmt.Sprintf("request %d: the engine serves what net/http refuses", i+1)
		case s == nil || s.v == nil:
			return "" // neither serves it, and the connection ends
		case o == nil || o.v == nil:
			start := s.start // after the CR and LF net/http skips; the engine's is before
			if o != nil {
				start = o.start
			}
			if d := headDifference(data[start:], prev); d != "" {
				return "" // deliberate: the engine is stricter
			}
			return fmt.Sprintf("request %d: the engine refuses what net/http serves, outside every deliberate difference", i+1)
		}
		if d := compareViews(data, o.v, s.v, s.start); d != "" {
			return fmt.Sprintf("request %d: %s", i+1, d)
		}
		if o.v.BodyErr || s.v.BodyErr {
			return ""
		}
		prev = s.v.Method
	}
}

// compareViews compares what a handler sees of one request both served.
func compareViews(data []byte, o, s *view, start int) string {
	std := *s
	if higherMinorVersion(data[start:]) {
		std.Proto, std.ProtoMinor = "HTTP/1.1", 1
	}
	type pair struct {
		name     string
		our, std any
	}
	for _, p := range []pair{
		{"Method", o.Method, std.Method}, {"RequestURI", o.RequestURI, std.RequestURI},
		{"URL", o.URL, std.URL}, {"Host", o.Host, std.Host},
		{"Proto", o.Proto, std.Proto}, {"ProtoMinor", o.ProtoMinor, std.ProtoMinor},
		{"Header", o.Header, std.Header}, {"ContentLength", o.ContentLength, std.ContentLength},
		{"TransferEncoding", o.TransferEncoding, std.TransferEncoding}, {"Close", o.Close, std.Close},
		{"Trailer keys", o.Declared, std.Declared},
	} {
		if !reflect.DeepEqual(p.our, p.std) {
			return fmt.Sprintf("%s differs: ours %#v, net/http %#v", p.name, p.our, p.std)
		}
	}
	switch {
	case !o.BodyErr && std.BodyErr:
		return "the engine reads a body net/http refuses"
	case o.BodyErr && !std.BodyErr:
		if bodyDifference(data[start:std.End]) != "" {
			return "" // deliberate: the engine is stricter
		}
		return "the engine refuses a body net/http reads, outside every deliberate difference"
	case o.BodyErr:
		return ""
	}
	for _, p := range []pair{
		{"Body", o.Body, std.Body}, {"Trailer", o.Trailer, std.Trailer}, {"the request's end", o.End, std.End},
	} {
		if !reflect.DeepEqual(p.our, p.std) {
			return fmt.Sprintf("%s differs: ours %#v, net/http %#v", p.name, p.our, p.std)
		}
	}
	return ""
}

// numLeadingCRorLF is net/http's, for the CR and LF it skips after a POST.
func numLeadingCRorLF(v []byte) (n int) {
	for _, b := range v {
		if b != '\r' && b != '\n' {
			break
		}
		n++
	}
	return n
}

// hasToken is net/http's test of the Expect field (header.go): token
// anywhere in v, between spaces, tabs, commas or the ends.
func hasToken(v, token string) bool {
	boundary := func(b byte) bool { return b == ' ' || b == ',' || b == '\t' }
	for sp := 0; sp+len(token) <= len(v); sp++ {
		if sp > 0 && !boundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !boundary(v[end]) {
			continue
		}
		if strings.EqualFold(v[sp:sp+len(token)], token) { // token is ASCII, v's part the same length
			return true
		}
	}
	return false
}

// A difference is a deliberate one: the engine refuses what net/http
// serves. Each is a row of differences.md, under the same name.
type difference struct {
	name  string
	holds func(h stdHead, prev string) bool
}

// headDifferences are the deliberate differences of a head. prev is the
// method of the request before on the connection ("" for the first).
var headDifferences = []difference{
	{"BareLF", func(h stdHead, _ string) bool { return h.bareLF }},
	{"ObsFold", func(h stdHead, _ string) bool { return h.fold }},
	{"CRLFBeforeRequest", func(h stdHead, prev string) bool { return prev == "POST" && h.crlfFirst }},
	{"TooManyFields", func(h stdHead, _ string) bool { return len(h.fields) > fieldLimit }},
	{"ContentLengthAndTransferEncoding", func(h stdHead, _ string) bool {
		return h.count("Content-Length") > 0 && h.count("Transfer-Encoding") > 0
	}},
	{"DuplicateContentLength", func(h stdHead, _ string) bool { return h.count("Content-Length") > 1 }},
	{"LongContentLength", func(h stdHead, _ string) bool {
		return slices.ContainsFunc(h.values("Content-Length"), func(v string) bool { return len(v) > 18 })
	}},
	{"TransferEncodingInHTTP10", func(h stdHead, _ string) bool {
		return h.version == "HTTP/1.0" && h.count("Transfer-Encoding") > 0
	}},
	{"ExpectNotExactly100Continue", func(h stdHead, _ string) bool {
		return slices.ContainsFunc(h.values("Expect"), func(v string) bool { return !strings.EqualFold(v, "100-continue") })
	}},
	{"HTTP2Preface", func(h stdHead, _ string) bool { return h.line == "PRI * HTTP/2.0" }},
	{"Connect", func(h stdHead, _ string) bool { return h.method == "CONNECT" }},
	{"AsteriskNotOptions", func(h stdHead, _ string) bool { return h.target == "*" && h.method != "OPTIONS" }},
	{"TargetNotOriginOrHTTPAbsolute", func(h stdHead, _ string) bool {
		if h.target == "*" || strings.HasPrefix(h.target, "/") {
			return false
		}
		u, err := url.ParseRequestURI(h.target)
		return err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == ""
	}},
	{"FragmentOrNonASCIIInTarget", func(h stdHead, _ string) bool {
		return strings.ContainsFunc(h.target, func(r rune) bool { return r == '#' || r >= 0x80 })
	}},
}

// headDifference names the deliberate difference req (a request as
// net/http reads it, from its first byte) falls in, or "".
func headDifference(req []byte, prev string) string {
	h := splitHead(req)
	for _, d := range headDifferences {
		if d.holds(h, prev) {
			return d.name
		}
	}
	return ""
}

// higherMinorVersion: a version of HTTP/1.2 to HTTP/1.9, which the
// engine reads as HTTP/1.1 (RFC 9110 section 2.5) and net/http reports
// as it came; the one deliberate difference in what a handler sees.
func higherMinorVersion(req []byte) bool {
	v := splitHead(req).version
	return len(v) == 8 && strings.HasPrefix(v, "HTTP/1.") && '2' <= v[7] && v[7] <= '9'
}

// stdHead is a head split as net/http's textproto reader does: lines up
// to each LF, less one CR before it, to the first empty line.
type stdHead struct {
	line                    string // the request line
	method, target, version string
	fields                  []stdField
	bareLF                  bool // a line of the head ends in a LF with no CR
	fold                    bool // a field line starts with whitespace
	size                    int  // bytes through the empty line; 0 when there is none
	crlfFirst               bool // the first byte is a CR or LF
}

type stdField struct{ name, value string } // the name canonical, the value trimmed

func splitHead(req []byte) stdHead {
	h := stdHead{crlfFirst: len(req) > 0 && (req[0] == '\r' || req[0] == '\n')}
	for p, first := 0, true; ; first = false {
		i := bytes.IndexByte(req[p:], '\n')
		if i < 0 {
			return h
		}
		line := req[p : p+i]
		p += i + 1
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		} else {
			h.bareLF = true
		}
		switch {
		case first:
			h.line = string(line)
			h.method, h.target, h.version = splitLine(h.line)
		case len(line) == 0:
			h.size = p
			return h
		case line[0] == ' ' || line[0] == '\t':
			h.fold = true
		default:
			name, value, _ := strings.Cut(string(line), ":")
			h.fields = append(h.fields, stdField{http.CanonicalHeaderKey(name), strings.Trim(value, " \t")})
		}
	}
}

// splitLine cuts a request line as net/http does: at its first two spaces.
func splitLine(line string) (method, target, version string) {
	method, rest, _ := strings.Cut(line, " ")
	target, version, _ = strings.Cut(rest, " ")
	return method, target, version
}

func (h stdHead) values(name string) []string {
	var vs []string
	for _, f := range h.fields {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

func (h stdHead) count(name string) int { return len(h.values(name)) }

// diffSeeds: everyday requests of browsers and curl, every form of
// target, HTTP/1.0, pipelines, and each strictness case of strict_test.go.
var diffSeeds = []string{
	// Everyday requests.
	"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
	"GET /search?q=gatehouse&lang=en HTTP/1.1\r\nHost: www.example.com\r\nConnection: keep-alive\r\n" +
		"sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\"\r\nsec-ch-ua-mobile: ?0\r\n" +
		"Upgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nSec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\nCookie: a=1; b=2\r\n\r\n",
	"GET /favicon.ico HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n" +
		"Accept: image/avif,image/webp,*/*\r\nReferer: https://example.com/\r\nDNT: 1\r\nPragma: no-cache\r\nPriority: u=6\r\n\r\n",
	"POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2",
	"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
		"5\r\nhello\r\n6;ext=\"v a\"\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n",
	"PUT /o HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
	"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	"HEAD /a%20b/c%2Fd?x=%41&y HTTP/1.1\r\nhost: example.com:8080\r\nx-lower: v\r\nX-UPPER: V\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n",
	"DELETE /x/../y/./z;p=1 HTTP/1.1\r\nHost: example.com\r\nAuthorization: Bearer abc.def\r\n\r\n",
	"GET /{a}|b^`c\"<>\\ HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /? HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a??b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET //x/y HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9\xff\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n",
	// Absolute and asterisk forms.
	"GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET https://user@example.com:8443/p%20q HTTP/1.1\r\nHost: other\r\n\r\n",
	"GET http://[::1]:8080/ HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	"GET HTTP://EXAMPLE.com HTTP/1.1\r\nHost: e\r\n\r\n",
	"GET ftp://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET example.com:80 HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET http:/nohost HTTP/1.1\r\nHost: a\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET * HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	// HTTP/1.0 and other versions.
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive, foo\r\n\r\nGET /3 HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\nGET /never HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
	"GET / HTTP/0.9\r\n\r\n",
	"GET /\r\n\r\n",
	"GET / http/1.1\r\nHost: a\r\n\r\n",
	// Pipelines.
	"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /4 HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx",
	"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n",
	// Strictness: framing.
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000000000000000003\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED \r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-A, X-B\r\nTrailer: x-c\r\n\r\n0\r\nX-A: 1\r\nX-D: 2\r\nx-a: 3\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: a,,b\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTrailer: X-A\r\nContent-Length: 0\r\n\r\n",
	// Strictness: chunked bodies.
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000005\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d\\\"e\";f\r\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : 1\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n y\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
	// Strictness: the head.
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n\n",
	"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nNo-Colon\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n: empty-name\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nBad[Name]: v\r\n\r\n",
	"GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
	"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n",
	"get / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
	"GET / HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost:\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: 1\r\n", fieldLimit) + "\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: 1\r\n", fieldLimit-1) + "\r\n",
	// Over the engine's 4 KiB buffer (read by the engine only).
	"GET / HTTP/1.1\r\nHost: a\r\nCookie: " + strings.Repeat("c=0123456789; ", 400) + "\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nbb8;e=1\r\n" + strings.Repeat("x", 3000) + "\r\n" +
		"7d0\r\n" + strings.Repeat("y", 2000) + "\r\n0\r\nX-T: " + strings.Repeat("t", 1500) + "\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
	strings.Repeat("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n"+strings.Repeat("z", 2000), 3),
}
