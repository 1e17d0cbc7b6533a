package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync/atomic"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// conn is a client connection as the HTTP/1.1 engine gets it: the TCP
// connection, or the TLS connection over it after the handshake (the
// socket layer does the handshake and the ALPN split, so the engine only
// ever sees plaintext). It carries what the handshake learned, and
// notices the answers net/http writes on its own, outside any handler
// (the parser's 400, 431, 501...), so that they are logged and answered
// through the funnel like every other refusal.
type conn struct {
	net.Conn
	// tls is the handshake's result; nil on a plain listener.
	tls *tls.ConnectionState
	// refused reports a refusal; nil ignores them.
	refused func(c *conn, r funnel.Refusal)
	// read counts requests the engine began to read, handled those that
	// reached a handler: a response written while read > handled is the
	// engine's own refusal.
	read, handled atomic.Int32
	answered      atomic.Bool // the refusal of the last unhandled request was answered
}

type connKey struct{}

// connFrom returns the conn of a request's context, nil if none.
func connFrom(ctx context.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}

// Write implements net.Conn. A response the engine writes while no
// handler has the request is its parser's refusal: it is logged, and the
// funnel's answer goes out in its place.
func (c *conn) Write(p []byte) (int, error) {
	if c.read.Load() > c.handled.Load() && bytes.HasPrefix(p, []byte("HTTP/1.")) {
		if status, reason, ok := parseRefusal(p); ok {
			c.answered.Store(true)
			if c.refused != nil {
				c.refused(c, funnel.Refusal{Status: status, Reason: reason, Answered: true, Proto: "HTTP/1.1"})
			}
			if _, err := c.Conn.Write(funnel.RawHTTP1(funnel.ForRefusal(status))); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// Unwrap returns the connection c wraps, on which Gatehouse's own engine
// reads and writes (for writev and splice); net/http never calls it.
func (c *conn) Unwrap() net.Conn { return c.Conn }

// ReadFrom passes a response body down to the TCP connection, for
// sendfile(2) on plain listeners.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

type writerOnly struct{ io.Writer }

// CloseWrite half-closes, as net/http does before closing after an error.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// closed reports a request the engine began to read and never answered
// nor handed to a handler: read_header_timeout, or a reset. (A client that
// hangs up mid-header gets the parser's 400, reported when written.)
func (c *conn) closed() {
	if c.read.Load() > c.handled.Load() && !c.answered.Load() && c.refused != nil {
		c.refused(c, funnel.Refusal{Status: 408, Reason: "the connection ended before a whole request arrived (read_header_timeout, or the client hung up)", Proto: "HTTP/1.1"})
	}
}

// parseRefusal reads the status and the text of net/http's own error
// answer, "HTTP/1.1 400 Bad Request\r\n...\r\n\r\n400 Bad Request: why".
func parseRefusal(p []byte) (int, string, bool) {
	line, rest, _ := bytes.Cut(p, []byte("\r\n"))
	f := bytes.SplitN(line, []byte(" "), 3)
	if len(f) < 2 {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(f[1]))
	if err != nil || status < 400 || status > 599 {
		return 0, "", false
	}
	reason := string(line)
	if _, body, ok := bytes.Cut(rest, []byte("\r\n\r\n")); ok && len(body) > 0 {
		reason = string(body)
	}
	return status, "refused by the HTTP/1.1 parser: " + reason, true
}
