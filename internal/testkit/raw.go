package testkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Raw is a TCP connection for hand-written requests: for what net/http's
// client would refuse to send or would change (request lines, hop-by-hop
// headers, chunked trailers, malformed input).
type Raw struct {
	net.Conn
	R *bufio.Reader
	t testing.TB
}

// Dial connects to addr; the connection is closed when the test ends.
func Dial(t testing.TB, addr string) *Raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &Raw{Conn: c, R: bufio.NewReader(c), t: t}
}

// Send writes s, with every "\n" not preceded by "\r" turned into "\r\n",
// so requests can be written as Go strings with plain newlines.
func (c *Raw) Send(s string) {
	c.t.Helper()
	c.SendBytes(CRLF(s))
}

// SendBytes writes s exactly as given.
func (c *Raw) SendBytes(s string) {
	c.t.Helper()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.Conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// ReadResponse reads one response to a request with method (HEAD responses
// have no body) and its whole body, within 10s.
func (c *Raw) ReadResponse(method string) (*http.Response, string) {
	c.t.Helper()
	res, body, err := c.TryReadResponse(method)
	if err != nil {
		c.t.Fatal(err)
	}
	return res, body
}

// TryReadResponse is ReadResponse for tests where the connection may be
// closed instead: the error says which.
func (c *Raw) TryReadResponse(method string) (*http.Response, string, error) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(c.R, &http.Request{Method: method})
	if err != nil {
		return nil, "", fmt.Errorf("read response: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res, string(b), fmt.Errorf("read response body: %w", err)
	}
	return res, string(b), nil
}

// ExpectClosed fails t unless the peer has closed the connection (or
// resets it) within 10s, with no more bytes before that.
func (c *Raw) ExpectClosed(t testing.TB) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c.R)
	if len(b) > 0 {
		t.Errorf("bytes after the answer, where the connection should have closed: %q", b)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the connection is still open 10s after the answer")
	}
}

// RoundTrip sends one raw request on a new connection and reads the answer.
func RoundTrip(t testing.TB, addr, req string) (*http.Response, string) {
	t.Helper()
	c := Dial(t, addr)
	c.Send(req)
	return c.ReadResponse(strings.SplitN(req, " ", 2)[0])
}

// CRLF turns bare "\n" line ends into "\r\n".
func CRLF(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// DialWebSocket opens a WebSocket to url (ws://...) with header added to
// the handshake, on a client of its own without an overall timeout. It
// fails the test if the handshake fails. It reads messages of up to 1 MiB.
// The connection is closed when the
// test ends.
func DialWebSocket(t testing.TB, url string, header http.Header) (*websocket.Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client, HTTPHeader: header})
	if err != nil {
		t.Fatalf("websocket dial %s: %v", url, err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c, res
}
