package enginetest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smuggled is a whole request, sent as part of a body: it must never
// reach the handler as a request of its own.
const smuggled = "GET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"

// raw is a client TCP connection for hand-written requests, where the
// exact bytes on the wire matter. Its methods run on the test's
// goroutine and fail the test on error.
type raw struct {
	net.Conn
	r *bufio.Reader
	t *testing.T
}

// dial connects to addr; the connection closes when the test ends.
func dial(t *testing.T, addr string) *raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{Conn: c, r: bufio.NewReader(c), t: t}
}

// send writes s with every "\n" turned into "\r\n", so that requests are
// written as Go strings with plain line ends.
func (c *raw) send(s string) {
	c.t.Helper()
	c.sendBytes(crlf(s))
}

// sendBytes writes s exactly.
func (c *raw) sendBytes(s string) {
	c.t.Helper()
	c.SetWriteDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c.Conn, s); err != nil {
		c.t.Fatalf("write request: %v", err)
	}
}

// head reads one response's status line and header, leaving its body to
// be read from res.Body. method is the request's (HEAD responses have no
// body).
func (c *raw) head(method string) *http.Response {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("read response to %s: %v", method, err)
	}
	return res
}

// response reads one whole response to a request of method.
func (c *raw) response(method string) (*http.Response, string) {
	c.t.Helper()
	res, body, err := c.tryResponse(method)
	if err != nil {
		c.t.Fatal(err)
	}
	return res, body
}

// tryResponse is response for tests where the connection may end
// instead: the error says how.
func (c *raw) tryResponse(method string) (*http.Response, string, error) {
	c.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, string(b), err
}

// expectClosed fails the test unless the server closes the connection
// (after the response already read) and sends nothing more.
func (c *raw) expectClosed(why string) {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c.r)
	switch {
	case len(b) > 0:
		c.t.Errorf("%s: the server sent %q where it should have closed the connection", why, b)
	case isTimeout(err):
		c.t.Errorf("%s: the connection is still open after %s", why, wait)
	case err != nil && !isCut(err):
		c.t.Errorf("%s: reading for the close: %v", why, err)
	}
}

// readN reads exactly n bytes of r within wait, failing the test if they
// do not come.
func (c *raw) readN(r io.Reader, n int, what string) string {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		c.t.Fatalf("reading %s: %v (got %q)", what, err, b)
	}
	return string(b)
}

// isTimeout reports a deadline's error.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// isCut reports the ways a connection the peer closed ends a read: EOF,
// or a reset when it closed with bytes unread.
func isCut(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// crlf turns bare "\n" line ends into "\r\n".
func crlf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// closeWrite half-closes the client's side: the server reads EOF while
// the client can still read.
func (c *raw) closeWrite() {
	c.t.Helper()
	if err := c.Conn.(*net.TCPConn).CloseWrite(); err != nil {
		c.t.Fatalf("half-close: %v", err)
	}
}
