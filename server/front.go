package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// front is what serves a listener's connections with one set of its
// settings: the TLS handshake and the protocol split, the HTTP/1.1
// engine and the HTTP/2 engine. A reload that changes the settings starts
// a new front on the same socket and retires the old one, which goes on
// serving the connections it has.
type front struct {
	plan *plan
	log  *slog.Logger
	// connCtx is every connection's context: the listener, and on TLS
	// listeners the per-connection client-certificate state.
	connCtx func(ctx context.Context) context.Context
	refused func(c *conn, r funnel.Refusal)

	h1     H1Engine
	h1feed *feed
	h2     *h2engine // nil when the listener speaks no HTTP/2
}

// h2cPreface is how an HTTP/2 client with prior knowledge starts.
var h2cPreface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// handle serves one accepted connection: the TLS handshake (bounded by
// read_header_timeout, as a slow handshake is a slow request), then by
// the negotiated protocol the HTTP/2 engine or the HTTP/1.1 engine. It
// runs on the connection's own goroutine. next returns the front in use
// now, for a connection whose front was retired while it shook hands.
func (f *front) handle(c net.Conn, next func() *front) {
	var cs *tls.ConnectionState
	var nc net.Conn = c
	if f.plan.tls != nil {
		tc := tls.Server(c, f.plan.tls)
		if err := f.handshake(tc); err != nil {
			f.handshakeFailed(c, err)
			return
		}
		state := tc.ConnectionState()
		switch state.NegotiatedProtocol {
		case acme.ALPNProto:
			tc.Close() // a TLS-ALPN-01 challenge, answered by the handshake
			return
		case "h2":
			f.serveH2(tc, next)
			return
		}
		nc, cs = tc, &state
	} else if f.plan.cfg.H2C {
		pc, isH2, err := f.peekPreface(c)
		if err != nil {
			c.Close()
			return
		}
		nc = pc
		if isH2 {
			f.serveH2(pc, next)
			return
		}
	}
	f.serveH1(&conn{Conn: nc, tls: cs, refused: f.refused}, next)
}

// errPlainOnTLS answers plain HTTP sent to a TLS port.
var errPlainOnTLS = &funnel.Class{Status: http.StatusBadRequest,
	Message: "bad request: this port speaks HTTPS; use https://"}

// handshakeFailed ends a connection whose TLS handshake failed. A client
// that spoke plain HTTP is told, in plain HTTP, to use HTTPS (as
// net/http's own TLS server does); anything else is only logged.
func (f *front) handshakeFailed(c net.Conn, err error) {
	defer c.Close()
	var re tls.RecordHeaderError
	if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader[:]) {
		re.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		re.Conn.Write(funnel.RawHTTP1(errPlainOnTLS))
		f.refused(&conn{Conn: c}, funnel.Refusal{Status: http.StatusBadRequest, Proto: "HTTP/1.1", Answered: true,
			Reason: "plain HTTP sent to a TLS listener"})
		return
	}
	f.log.Debug("TLS handshake failed", "listener", f.plan.cfg.Name, "peer", c.RemoteAddr().String(), "error", err)
}

// looksLikeHTTP reports whether the first bytes of a would-be TLS record
// are the start of an HTTP/1.x request instead.
func looksLikeHTTP(hdr []byte) bool {
	for _, m := range []string{"GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE", "TRACE"} {
		if bytes.HasPrefix(hdr, []byte(m)) {
			return true
		}
	}
	return false
}

func (f *front) handshake(tc *tls.Conn) error {
	d := f.plan.cfg.ReadHeaderTimeout.D()
	if d <= 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	tc.SetDeadline(time.Now().Add(d))
	defer tc.SetDeadline(time.Time{})
	return tc.HandshakeContext(ctx)
}

// peekPreface reads enough of a plain connection to tell HTTP/2 with
// prior knowledge from HTTP/1.1, without consuming it.
func (f *front) peekPreface(c net.Conn) (net.Conn, bool, error) {
	d := f.plan.cfg.ReadHeaderTimeout.D()
	if d > 0 {
		c.SetReadDeadline(time.Now().Add(d))
		defer c.SetReadDeadline(time.Time{})
	}
	br := bufio.NewReaderSize(c, len(h2cPreface))
	// An HTTP/1.1 request line of fewer bytes than the preface
	// ("GET / HTTP/1.1\r\n" is 16) differs from it by its first bytes.
	for n := 1; n <= len(h2cPreface); n++ {
		p, err := br.Peek(n)
		if !bytes.Equal(p, h2cPreface[:len(p)]) {
			return &peekedConn{Conn: c, r: br}, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	return &peekedConn{Conn: c, r: br}, true, nil
}

// peekedConn replays the bytes peeked before reading on.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

// CloseWrite half-closes, as the engines do before closing after an
// error, when the connection under it can.
func (c *peekedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.r.Buffered() > 0 {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}

// serveH2 hands c to the HTTP/2 engine; should f have been retired in
// the meantime, to the front in use now.
func (f *front) serveH2(c net.Conn, next func() *front) {
	for cur := f; cur.h2 != nil; {
		if cur.h2.serve(cur.connCtx(context.Background()), c) {
			return
		}
		n := next()
		if n == nil || n == cur {
			break
		}
		cur = n
	}
	c.Close() // shutting down, or the new settings turned HTTP/2 off
}

// serveH1 hands c to the HTTP/1.1 engine, as serveH2 does.
func (f *front) serveH1(c *conn, next func() *front) {
	for cur := f; !cur.h1feed.push(c); {
		n := next()
		if n == nil || n == cur {
			c.Close()
			return
		}
		cur = n
	}
}

// shutdown stops both engines (see http.Server.Shutdown).
func (f *front) shutdown(ctx context.Context) error {
	f.h1feed.close()
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = f.h1.Shutdown(ctx) })
	if f.h2 != nil {
		wg.Go(func() { errs[1] = f.h2.shutdown(ctx) })
	}
	wg.Wait()
	if errs[0] != nil {
		return errs[0]
	}
	return errs[1]
}

// closeNow closes every connection of both engines.
func (f *front) closeNow() {
	f.h1feed.close()
	f.h1.Close()
	if f.h2 != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f.h2.shutdown(ctx)
	}
}

var _ http.Handler = h1Handler{}
