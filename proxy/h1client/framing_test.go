package h1client_test

import (
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/proxy"
)

// framingCase is one response a backend sends to the first request on
// its first connection; every later request gets okResp.
type framingCase struct {
	name   string
	method string // GET when empty
	resp   string
	// closeAfter: the backend closes the connection after resp (a body
	// delimited by the close). Otherwise it keeps it open, so whether the
	// forwarder reuses it is the forwarder's choice.
	closeAfter bool
	// pre is the header already set on the client's response (the
	// listener's Alt-Svc).
	pre http.Header

	wantErr     string // a substring of the error; "" for success
	wantStatus  int
	wantBody    string
	wantHeader  http.Header // fields that must be exactly so
	wantAbsent  []string    // fields that must not be relayed
	wantTrailer http.Header
	// wantRaw are fields that must be in the recorder's header map as
	// written, not in the snapshot: trailers set after WriteHeader.
	wantRaw http.Header
	reused  bool // the next request goes on the same connection
}

// TestResponseFraming: RFC 9112 section 6.3 as the forwarder applies it,
// and what each response leaves of its connection.
func TestResponseFraming(t *testing.T) {
	huge := strings.Repeat("a", 1<<20+10)
	manyLines := strings.Repeat("X-Line: "+strings.Repeat("b", 90)+"\r\n", 11000)
	cases := []framingCase{
		{name: "content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
			wantStatus: 200, wantBody: "hello", wantHeader: http.Header{"Content-Length": {"5"}, "X-A": {"1"}}, reused: true},
		{name: "content-length zero", resp: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			wantStatus: 200, wantBody: "", reused: true},
		// Held to the rules Gatehouse's server holds clients to
		// (server/h1/differences.md): one Content-Length, one value.
		{name: "content-length list of one value", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
			wantErr: "one field, one value"},
		{name: "repeated equal content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
			wantErr: "one field, one value"},
		{name: "chunked",
			resp:       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
			wantStatus: 200, wantBody: "hello world", wantAbsent: []string{"Transfer-Encoding", "Content-Length"}, reused: true},
		{name: "chunked, announced trailer",
			resp:       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n",
			wantStatus: 200, wantBody: "hello", wantHeader: http.Header{"Trailer": {"X-Sum"}},
			wantTrailer: http.Header{"X-Sum": {"abc"}}, wantRaw: http.Header{"X-Sum": {"abc"}}, reused: true},
		{name: "chunked, unannounced trailer",
			resp:       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Late: 1\r\n\r\n",
			wantStatus: 200, wantBody: "hello", wantAbsent: []string{"Trailer"},
			wantTrailer: http.Header{"X-Late": {"1"}}, wantRaw: http.Header{http.TrailerPrefix + "X-Late": {"1"}}, reused: true},
		{name: "chunked, both kinds of trailer and forbidden ones",
			resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\n" +
				"X-Sum: abc\r\nX-Late: 1\r\nContent-Length: 99\r\nHost: evil\r\n\r\n",
			wantStatus: 200, wantBody: "hello",
			wantTrailer: http.Header{"X-Sum": {"abc"}, "X-Late": {"1"}}, reused: true},
		{name: "close-delimited", resp: "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nall of it, until the end", closeAfter: true,
			wantStatus: 200, wantBody: "all of it, until the end", reused: false},
		{name: "head with content-length", method: http.MethodHead, resp: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
			wantStatus: 200, wantBody: "", wantHeader: http.Header{"Content-Length": {"1000"}}, reused: true},
		{name: "head with chunked", method: http.MethodHead, resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			wantStatus: 200, wantBody: "", reused: true},
		{name: "100 and 103 skipped",
			resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
				"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			wantStatus: 200, wantBody: "hello", wantAbsent: []string{"Link"}, reused: true},
		{name: "204", resp: "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", wantStatus: 204, wantBody: "", reused: true},
		{name: "304", resp: "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 10\r\n\r\n",
			wantStatus: 304, wantBody: "", wantHeader: http.Header{"Etag": {`"v1"`}}, reused: true},
		{name: "transfer-encoding and content-length",
			resp:    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			wantErr: "both Content-Length and Transfer-Encoding"},
		// RFC 9112 6.3 would read such a body to the close; relaying it
		// would hand the client coded bytes labelled as content, so any
		// coding but chunked is refused, as net/http's Transport does.
		{name: "transfer-encoding other than chunked is refused",
			resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nraw bytes", closeAfter: true,
			wantErr: "unsupported Transfer-Encoding"},
		{name: "conflicting content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
			wantErr: "Content-Length"},
		{name: "conflicting content-length list", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
			wantErr: "Content-Length"},
		{name: "garbage content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello", wantErr: "Content-Length"},
		{name: "negative content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello", wantErr: "Content-Length"},
		{name: "empty content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nhello", wantErr: "Content-Length"},
		{name: "http/1.0 without keep-alive", resp: "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			wantStatus: 200, wantBody: "hello", reused: false},
		{name: "http/1.0 with keep-alive", resp: "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
			wantStatus: 200, wantBody: "hello", wantAbsent: []string{"Connection"}, reused: true},
		{name: "connection close", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
			wantStatus: 200, wantBody: "hello", wantAbsent: []string{"Connection"}, reused: false},
		{name: "connection close among other tokens", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: X-A, Close\r\nX-A: 1\r\n\r\nhello",
			wantStatus: 200, wantBody: "hello", wantAbsent: []string{"Connection", "X-A"}, reused: false},
		{name: "obs-fold", resp: "HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b \r\n\tc\r\nContent-Length: 2\r\n\r\nok",
			wantErr: "obs-fold"},
		{name: "bare LF line ends", resp: "HTTP/1.1 200 OK\nContent-Length: 2\nX-A: 1\n\nok",
			wantErr: "bare LF"},
		{name: "bare LF ending one line", resp: "HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\r\nok",
			wantErr: "bare LF"},
		{name: "empty line before the status line", resp: "\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			wantErr: "an empty line before the status line"},
		{name: "status line without reason", resp: "HTTP/1.1 299\r\nContent-Length: 2\r\n\r\nok",
			wantStatus: 299, wantBody: "ok", reused: true},
		{name: "non-canonical names", resp: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-lower-case: v\r\n\r\nok",
			wantStatus: 200, wantBody: "ok", wantHeader: http.Header{"X-Lower-Case": {"v"}}, reused: true},
		{name: "header line over 1 MiB", resp: "HTTP/1.1 200 OK\r\nX-Huge: " + huge + "\r\nContent-Length: 2\r\n\r\nok",
			wantErr: "larger than 1 MiB"},
		{name: "header lines over 1 MiB", resp: "HTTP/1.1 200 OK\r\n" + manyLines + "Content-Length: 2\r\n\r\nok",
			wantErr: "larger than 1 MiB"},
		{name: "status code too short", resp: "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "status code not a number", resp: "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "status code with a sign", resp: "HTTP/1.1 +99 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "status code below 100", resp: "HTTP/1.1 099 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "status code run into the reason", resp: "HTTP/1.1 200OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "HTTP/2.0 status line", resp: "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "HTTP/1.2 status line", resp: "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "not HTTP", resp: "ICY 200 OK\r\n\r\nmusic", wantErr: "status line"},
		{name: "lower-case protocol", resp: "http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: "status line"},
		{name: "header without colon", resp: "HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 2\r\n\r\nok", wantErr: "header line"},
		{name: "space before colon", resp: "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok", wantErr: "header line"},
		{name: "empty name", resp: "HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 2\r\n\r\nok", wantErr: "header line"},
		{name: "continuation first", resp: "HTTP/1.1 200 OK\r\n folded\r\nContent-Length: 2\r\n\r\nok", wantErr: "obs-fold"},
		{name: "NUL in a value", resp: "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", wantErr: "NUL"},
		{name: "bad chunk size", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
			wantErr: "chunk"},
		{name: "body shorter than its length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", closeAfter: true,
			wantErr: "unexpected EOF"},
		{name: "hop-by-hop fields and those Connection names",
			resp: "HTTP/1.1 200 OK\r\nConnection: X-Secret, keep-alive\r\nConnection: x-other\r\nX-Secret: s\r\nX-Other: o\r\n" +
				"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nTe: trailers\r\n" +
				"X-Kept: k\r\nContent-Length: 2\r\n\r\nok",
			wantStatus: 200, wantBody: "ok", wantHeader: http.Header{"X-Kept": {"k"}},
			wantAbsent: []string{"Connection", "X-Secret", "X-Other", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Upgrade", "Te"},
			reused:     true},
		{name: "duplicate fields relayed as several values",
			resp:       "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nX-A: 1\r\nSet-Cookie: b=2, c=3\r\nset-cookie: d=4\r\nContent-Length: 2\r\n\r\nok",
			wantStatus: 200, wantBody: "ok", wantHeader: http.Header{"Set-Cookie": {"a=1; Path=/", "b=2, c=3", "d=4"}}, reused: true},
		{name: "listener's Alt-Svc kept", resp: "HTTP/1.1 200 OK\r\nAlt-Svc: h2=\":8443\"\r\nContent-Length: 2\r\n\r\nok",
			pre:        http.Header{"Alt-Svc": {`h3=":443"; ma=86400`}},
			wantStatus: 200, wantBody: "ok", wantHeader: http.Header{"Alt-Svc": {`h3=":443"; ma=86400`}}, reused: true},
		{name: "target's Alt-Svc relayed when the listener has none", resp: "HTTP/1.1 200 OK\r\nAlt-Svc: h2=\":8443\"\r\nContent-Length: 2\r\n\r\nok",
			wantStatus: 200, wantBody: "ok", wantHeader: http.Header{"Alt-Svc": {`h2=":8443"`}}, reused: true},
		{name: "values replace those already set", resp: "HTTP/1.1 200 OK\r\nX-A: target\r\nContent-Length: 2\r\n\r\nok",
			pre:        http.Header{"X-A": {"before"}, "X-B": {"kept"}},
			wantStatus: 200, wantBody: "ok", wantHeader: http.Header{"X-A": {"target"}, "X-B": {"kept"}}, reused: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { testFraming(t, tc) })
	}
}

func testFraming(t *testing.T, tc framingCase) {
	b := newBackend(t, func(c *bconn) {
		for i := 0; ; i++ {
			if _, err := c.read(); err != nil {
				return
			}
			resp := okResp
			if c.n == 1 && i == 0 {
				resp = tc.resp
			}
			if c.write(resp) != nil {
				return
			}
			if c.n == 1 && i == 0 && tc.closeAfter {
				return
			}
		}
	})
	o := testOpts()
	o.ReadTimeout = 2 * time.Second // a body wrongly waited for fails fast
	f := newForwarder(t, o)
	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	rec := newRecorder()
	for k, v := range tc.pre {
		rec.Header()[k] = v
	}
	err := f.Forward(rec, newOut(method, "/first", nil, 0), b.target(), nil)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)

	if tc.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
		}
		pe := proxyError(t, err)
		if pe.ClientGone {
			t.Errorf("ClientGone set for the target's fault: %v", err)
		}
		if pe.Phase == proxy.PhaseRequest && rec.wrote {
			t.Errorf("PhaseRequest error after the header was written")
		}
		if !rec.wrote && pe.Phase != proxy.PhaseRequest {
			t.Errorf("phase %v, want request (nothing was written)", pe.Phase)
		}
	} else {
		if err != nil {
			t.Fatalf("Forward: %v", err)
		}
		if res.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
			t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
		}
		for k, v := range tc.wantHeader {
			if got := res.Header[k]; !reflect.DeepEqual(got, v) {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		for _, k := range tc.wantAbsent {
			if got, ok := res.Header[k]; ok {
				t.Errorf("header %s relayed (%q)", k, got)
			}
		}
		if tc.wantTrailer != nil && !reflect.DeepEqual(res.Trailer, tc.wantTrailer) {
			t.Errorf("trailer %v, want %v", res.Trailer, tc.wantTrailer)
		}
		for k, v := range tc.wantRaw {
			if got := rec.HeaderMap[k]; !reflect.DeepEqual(got, v) {
				t.Errorf("recorded %s = %q, want %q (all: %v)", k, got, v, rec.HeaderMap)
			}
		}
	}

	// The next request shows whether the connection was kept.
	mustGet(t, f, b, "/next")
	want := int32(2)
	if tc.reused {
		want = 1
	}
	if got := b.accepts.Load(); got != want {
		t.Errorf("%d connections for two requests, want %d (reused: %v)", got, want, tc.reused)
	}
}

// TestTrailersThroughServer: a chunked response's trailers reach a real
// HTTP/1.1 client as trailers, the announced and the unannounced.
func TestTrailersThroughServer(t *testing.T) {
	b := newBackend(t, answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"+
		"5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Late: 1\r\n\r\n"))
	f := newForwarder(t, testOpts())
	fr := newFront(t, f, b.target())
	res, err := fr.Client().Get(fr.URL + "/t")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(body) != "hello" {
		t.Fatalf("body %q, %v", body, err)
	}
	if err := fr.result(t); err != nil {
		t.Fatalf("Forward: %v", err)
	}
	if got := res.Trailer; got.Get("X-Sum") != "abc" || got.Get("X-Late") != "1" {
		t.Errorf("trailer %v, want X-Sum: abc and X-Late: 1", got)
	}
}

// TestEditResponse: the editor sees the final status and the header
// about to be sent, hop-by-hop fields already gone, and its edits are
// what the client gets.
func TestEditResponse(t *testing.T) {
	b := newBackend(t, answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nConnection: X-Hop\r\nX-Hop: 1\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok"))
	f := newForwarder(t, testOpts())
	rec := newRecorder()
	ed := &editor{}
	if err := f.Forward(rec, newOut(http.MethodGet, "/", nil, 0), b.target(), ed); err != nil {
		t.Fatal(err)
	}
	if ed.status != 201 || ed.saw.Get("X-A") != "1" || ed.saw.Get("X-Hop") != "" || ed.saw.Get("Connection") != "" {
		t.Errorf("editor saw %d %v", ed.status, ed.saw)
	}
	if got := rec.Result().Header.Get("X-Edited"); got != "yes" {
		t.Errorf("X-Edited %q, want the editor's yes", got)
	}
}

type editor struct {
	status int
	saw    http.Header
}

func (e *editor) EditResponse(status int, h http.Header) {
	e.status, e.saw = status, h.Clone()
	h.Set("X-Edited", "yes")
}
