package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// errorHeaders is what net/http puts between the status line and the
// text of its own refusals (net/http/server.go, conn.serve).
const errorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// TestParseRefusal reads every form of answer net/http writes on its own,
// and leaves everything else (a handler's answers, 1xx, garbage) alone.
func TestParseRefusal(t *testing.T) {
	const prefix = "refused by the HTTP/1.1 parser: "
	for _, tc := range []struct {
		name, p string
		status  int
		reason  string // without the prefix; "" when not a refusal
	}{
		{"header too large", "HTTP/1.1 431 Request Header Fields Too Large" + errorHeaders + "431 Request Header Fields Too Large",
			431, "431 Request Header Fields Too Large"},
		{"unsupported transfer encoding", "HTTP/1.1 501 Not Implemented" + errorHeaders + "Unsupported transfer encoding",
			501, "Unsupported transfer encoding"},
		{"statusError 400", "HTTP/1.1 400 Bad Request: missing required Host header" + errorHeaders + "400 Bad Request: missing required Host header",
			400, "400 Bad Request: missing required Host header"},
		{"statusError 505", "HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version" + errorHeaders + "505 HTTP Version Not Supported: unsupported protocol version",
			505, "505 HTTP Version Not Supported: unsupported protocol version"},
		{"plain 400", "HTTP/1.1 400 Bad Request" + errorHeaders + "400 Bad Request",
			400, "400 Bad Request"},
		{"expectation failed, no body", "HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: Wed, 02 Dec 2026 12:00:00 GMT\r\nContent-Length: 0\r\n\r\n",
			417, "HTTP/1.1 417 Expectation Failed"},
		{"status line only", "HTTP/1.1 431", 431, "HTTP/1.1 431"},
		{"header cut before its end", "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain", 400, "HTTP/1.1 400 Bad Request"},

		{"success", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, ""},
		{"100 continue", "HTTP/1.1 100 Continue\r\n\r\n", 0, ""},
		{"redirect", "HTTP/1.1 308 Permanent Redirect\r\n\r\n", 0, ""},
		{"status over 599", "HTTP/1.1 600 Odd\r\n\r\n", 0, ""},
		{"status not a number", "HTTP/1.1 4xx Bad\r\n\r\n", 0, ""},
		{"no status", "HTTP/1.1\r\n\r\n", 0, ""},
		{"a partial status", "HTTP/1.1 40", 0, ""},
		{"empty", "", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, reason, ok := parseRefusal([]byte(tc.p))
			if ok != (tc.status != 0) || status != tc.status {
				t.Fatalf("parseRefusal(%q) = %d, %q, %v; want status %d", tc.p, status, reason, ok, tc.status)
			}
			if ok && reason != prefix+tc.reason {
				t.Errorf("reason %q, want %q", reason, prefix+tc.reason)
			}
		})
	}
}

// TestEngineRefusalsAnswered: what either engine's parser refuses on a
// real front is logged as a refusal with the parser's reason and answered
// in the funnel's form (net/http's own answer replaced); answers from
// handlers, errors included, are never touched.
func TestEngineRefusalsAnswered(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{config.EngineGatehouse, config.EngineStdlib} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			testRefusalsAnswered(t, engine)
		})
	}
}

func testRefusalsAnswered(t *testing.T, engine string) {
	lc := loadListener(t, "max_header_bytes: 16KiB, engine: "+engine)
	s := serveFront(t, lc, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/handler-error" {
			http.Error(w, "the handler's own 400", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "handled")
	}))
	for _, tc := range []struct {
		name, req string
		status    int
		reason    string // part of the logged reason: net/http's
		own       string // Gatehouse's engine's
	}{
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400, "missing required Host header", "missing required Host header"},
		{"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "malformed Host header", "malformed Host header"},
		{"bad header name", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400, "invalid header name", "whitespace between a header name and its colon"},
		{"control byte in a value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400, "400 Bad Request", "control character"},
		{"two lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "400 Bad Request", "more than one Content-Length"},
		{"not HTTP", "garbage\r\n\r\n", 400, "400 Bad Request", "malformed request line"},
		{"HTTP/3.0 on TCP", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, "unsupported protocol version", "HTTP version not supported"},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "Unsupported transfer encoding", "Transfer-Encoding other than chunked"},
		{"unknown expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417, "417 Expectation Failed", "Expect"},
		{"header over the limit", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 17<<10) + "\r\n\r\n", 431, "431 Request Header Fields Too Large", "larger than max_header_bytes"},
	} {
		if engine == config.EngineGatehouse {
			tc.reason = tc.own
		}
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Refusals())
			c := dialRaw(t, s.addr)
			c.write(t, tc.req)
			res, body := c.read(t)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if want := funnel.Text(funnel.ForRefusal(tc.status)); body != want || res.Header.Get("X-Content-Type-Options") != "nosniff" || !res.Close {
				t.Errorf("answer %q with header %v, want the funnel's %q closing the connection", body, res.Header, want)
			}
			got := s.Refusals()[before:]
			if len(got) != 1 {
				t.Fatalf("refusals reported: %+v, want one", got)
			}
			r := got[0]
			if r.Status != tc.status || !r.Answered || r.Proto != "HTTP/1.1" || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("refusal %+v, want status %d answered, reason with %q", r, tc.status, tc.reason)
			}
		})
	}

	t.Run("handler's error untouched", func(t *testing.T) {
		before := len(s.Refusals())
		c := dialRaw(t, s.addr)
		c.write(t, "GET /handler-error HTTP/1.1\r\nHost: x\r\n\r\n")
		res, body := c.read(t)
		if res.StatusCode != 400 || body != "the handler's own 400\n" {
			t.Errorf("got %d %q, want the handler's own answer", res.StatusCode, body)
		}
		if got := s.Refusals()[before:]; len(got) != 0 {
			t.Errorf("a handler's answer reported as refused: %+v", got)
		}
	})

	t.Run("refused after a handled request on one connection", func(t *testing.T) {
		before := len(s.Refusals())
		c := dialRaw(t, s.addr)
		c.write(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n")
		if res, body := c.read(t); res.StatusCode != 200 || body != "handled" {
			t.Fatalf("first: %d %q", res.StatusCode, body)
		}
		if res, _ := c.read(t); res.StatusCode != 400 || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("second: %d %v, want the funnel's 400", res.StatusCode, res.Header)
		}
		if got := s.Refusals()[before:]; len(got) != 1 || got[0].Status != 400 {
			t.Errorf("refusals %+v, want one 400", got)
		}
	})
}

// TestUnfinishedRequestsReported: a request whose header never finished
// is reported: a 408 nobody heard when read_header_timeout ends it; when
// the client hangs up mid-header, net/http's parser's 400 (it answers a
// truncated header as malformed) or Gatehouse's engine's unanswered 408.
// A client leaving an idle keep-alive connection is not reported.
func TestUnfinishedRequestsReported(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{config.EngineGatehouse, config.EngineStdlib} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			testUnfinishedReported(t, engine)
		})
	}
}

func testUnfinishedReported(t *testing.T, engine string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "handled") })
	hangUp, hangUpAnswered := 400, true
	if engine == config.EngineGatehouse {
		hangUp, hangUpAnswered = 408, false
	}
	for _, tc := range []struct {
		name     string
		settings string
		run      func(t *testing.T, c *rawConn)
		status   int // 0: no report
		answered bool
	}{
		{"header timeout", "read_header_timeout: 200ms, engine: " + engine, func(t *testing.T, c *rawConn) {
			c.write(t, "GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if b, err := io.ReadAll(c.r); len(b) > 0 || err != nil {
				t.Errorf("after the header timeout: %q, %v; want the connection closed unanswered", b, err)
			}
		}, 408, false},
		{"hang-up mid-header", "engine: " + engine, func(t *testing.T, c *rawConn) {
			c.write(t, "GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
			c.Close()
		}, hangUp, hangUpAnswered},
		{"idle keep-alive closed", "engine: " + engine, func(t *testing.T, c *rawConn) {
			c.write(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			c.read(t)
			c.Close()
		}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := serveFront(t, loadListener(t, tc.settings), h)
			c := dialRaw(t, s.addr)
			tc.run(t, c)
			deadline := time.Now().Add(5 * time.Second)
			if tc.status == 0 {
				// Only a wrong report can be missed this way, never a
				// right silence failed.
				deadline = time.Now().Add(100 * time.Millisecond)
			}
			for len(s.Refusals()) == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			got := s.Refusals()
			if tc.status == 0 {
				if len(got) != 0 {
					t.Errorf("refusals %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("refusals %+v, want one", got)
			}
			if r := got[0]; r.Status != tc.status || r.Answered != tc.answered || r.Peer != c.LocalAddr().String() {
				t.Errorf("refusal %+v, want status %d answered %v from %s", r, tc.status, tc.answered, c.LocalAddr())
			}
		})
	}
}

// rawConn is a client connection for the package's own tests.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

func (c *rawConn) write(t *testing.T, s string) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.Conn, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read reads one whole response to a GET within 10s.
func (c *rawConn) read(t *testing.T) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, string(b)
}
