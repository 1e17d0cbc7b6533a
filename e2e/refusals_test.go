package e2e

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestParserRefusalsThroughFunnel: what net/http's parser refuses is
// answered in the funnel's form and logged, in the access log and the
// error log, like every other refusal; nothing reaches the backend.
func TestParserRefusalsThroughFunnel(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", max_header_bytes: 8KiB, read_header_timeout: 300ms}]
routes: [{upstream: "${B}"}]
`, testkit.Vars{"B": b.URL})
	cases := []struct {
		name, req string
		status    int
		body      string
	}{
		{"header without colon", "GET /api HTTP/1.1\nHost: x\nNoColon\n\n", 400, "400 bad request\n"},
		{"missing Host", "GET /api HTTP/1.1\n\n", 400, "400 bad request\n"},
		{"unsupported transfer coding", "POST /api HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked\n\n0\n\n", 501, "501 not implemented\n"},
		{"header too large", "GET / HTTP/1.1\nHost: x\nX-Big: " + strings.Repeat("a", 10<<10) + "\n\n", 431, "431 request header fields too large\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := testkit.RoundTrip(t, g.Addr, tc.req)
			if res.StatusCode != tc.status || body != tc.body {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.status, tc.body)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || !res.Close {
				t.Errorf("header %v: want the funnel's nosniff and Connection: close", res.Header)
			}
			e := g.Access.Wait(t, 5*time.Second, "request", "status", tc.status)
			if !strings.Contains(e.Str("error"), "refused by the HTTP/1.1 parser") || e.Str("client_ip") != "127.0.0.1" {
				t.Errorf("access log line %v: want the parser's reason and the client", e)
			}
			g.Logs.Wait(t, 5*time.Second, "request refused", "status", tc.status)
		})
	}
	t.Run("half a request, then silence", func(t *testing.T) {
		c := testkit.Dial(t, g.Addr)
		c.Send("GET / HTTP/1.1\nHost: x\n")
		e := g.Access.Wait(t, 5*time.Second, "request", "status", 408)
		if !strings.Contains(e.Str("error"), "before a whole request arrived") {
			t.Errorf("access log line %v: want the reason", e)
		}
	})
	if n := b.Hits(); n != 0 {
		t.Errorf("backend got %d requests, want none", n)
	}
}

// TestParserRefusalOverTLS: the same holds for HTTP/1.1 over TLS, where
// the engine only sees the plaintext the socket layer decrypted.
func TestParserRefusalOverTLS(t *testing.T) {
	t.Parallel()
	s := newTLSSetup(t, "http://127.0.0.1:9")
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}}]
`+tlsCerts+`
routes: [{respond: {body: hi}}]
`, s.vars)
	c, err := tls.Dial("tcp", g.Addr, s.ca.ClientTLS("site.test", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: site.test\r\nNoColon\r\n\r\n")
	got, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(got), "HTTP/1.1 400 ") || !strings.HasSuffix(string(got), "400 bad request\n") {
		t.Errorf("answer %q, want the funnel's 400", got)
	}
	g.Access.Wait(t, 5*time.Second, "request", "status", 400)
}

// TestBodyTimeoutClosesConnection: after a 408 for a stalled body, the
// rest of that body is never read as the next request: the answer says
// Connection: close and the connection ends.
func TestBodyTimeoutClosesConnection(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", client_body_timeout: 200ms}]
routes: [{upstream: "${B}"}]
`, testkit.Vars{"B": b.URL})
	c := testkit.Dial(t, g.Addr)
	c.Send("POST /upload HTTP/1.1\nHost: x\nContent-Length: 100\n\n0123456789")
	res, _ := c.ReadResponse("POST")
	if res.StatusCode != http.StatusRequestTimeout || !res.Close {
		t.Fatalf("got %d close=%v, want 408 with Connection: close", res.StatusCode, res.Close)
	}
	// What would be the rest of the body, shaped as a request.
	c.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(c.Conn, "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	rest, err := io.ReadAll(c.R)
	var ne net.Error
	if len(rest) > 0 || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("after the 408: read %q, %v; want the connection closed", rest, err)
	}
	for _, r := range b.Requests() {
		if r.RequestURI == "/smuggled" {
			t.Error("the rest of the stalled body was served as a request")
		}
	}
}
