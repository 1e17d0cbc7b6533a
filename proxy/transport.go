package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/copybuf"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/transport"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// TransportOptions configure the connection pool to one upstream's targets.
type TransportOptions struct {
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	// MaxIdleConns is the idle keep-alive connections kept per target; 0
	// keeps none.
	MaxIdleConns int
	// MaxConns limits connections per target; 0 means no limit.
	MaxConns int
	// UpgradeIdleTimeout closes an upgraded (WebSocket) connection when no
	// byte has moved either way for this long. 0 means never.
	UpgradeIdleTimeout time.Duration
	// SendTimeout bounds each pause while the request body is sent to the
	// target; ReadTimeout each pause while the response body is read from
	// it. 0 means no limit.
	SendTimeout time.Duration
	ReadTimeout time.Duration
	// Scheme is the targets' protocol: upstream.SchemeHTTP ("" too),
	// SchemeHTTPS (HTTP/2 or HTTP/1.1 by ALPN; upgrades always HTTP/1.1)
	// or SchemeH2C (HTTP/2 without TLS, with prior knowledge).
	Scheme string
	// TLS configures connections to https targets. Nil means the system
	// roots and each target's host as SNI. It is data (file contents, not
	// a *tls.Config), so options compare equal across reloads while the
	// files are unchanged.
	TLS *transport.TLS
}

// HTTPForwarder is the Forwarder built on net/http's Transport, with a
// keep-alive pool per target: HTTP/1.1 to http targets, HTTP/2 (or
// HTTP/1.1) over TLS to https targets, HTTP/2 to h2c targets. Safe for
// concurrent use.
type HTTPForwarder struct {
	transport *http.Transport
	opts      TransportOptions
	scheme    string // URL scheme of outbound requests
	// setupErr is why the TLS settings could not be applied; every
	// request then fails with it. LoadTLS has checked them, so it is
	// normally nil.
	setupErr error
	// Upgrades tracks upgraded connections so shutdown can close them.
	// Nil means untracked.
	Upgrades *Upgrades
}

// NewHTTPForwarder returns a forwarder with its own connection pool.
func NewHTTPForwarder(o TransportOptions, ups *Upgrades) *HTTPForwarder {
	f := &HTTPForwarder{opts: o, scheme: transport.RequestScheme(o.Scheme), Upgrades: ups}
	if f.scheme == "" {
		f.scheme = upstream.SchemeHTTP
	}
	var tc *tls.Config
	if o.Scheme == upstream.SchemeHTTPS {
		tc, f.setupErr = o.TLS.ClientConfig()
	}
	idle := o.MaxIdleConns
	if idle == 0 {
		idle = -1 // net/http reads 0 as its default of 2
	}
	d := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                  nil, // never send upstream traffic through an environment proxy
		DialContext:            d.DialContext,
		MaxIdleConns:           0, // bounded per host below
		MaxIdleConnsPerHost:    idle,
		MaxConnsPerHost:        o.MaxConns,
		IdleConnTimeout:        o.IdleConnTimeout,
		ResponseHeaderTimeout:  o.ResponseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true, // pass encodings through untouched
		MaxResponseHeaderBytes: 1 << 20,
		WriteBufferSize:        32 << 10,
		ReadBufferSize:         32 << 10,
		TLSHandshakeTimeout:    o.DialTimeout,
		HTTP2: &http.HTTP2Config{
			// Find a dead HTTP/2 connection (and the streams on it)
			// without waiting for TCP to notice.
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     15 * time.Second,
		},
	}
	transport.SetProtocols(t, o.Scheme, tc)
	f.transport = t
	return f
}

// Close drops idle pooled connections. In-flight requests are unaffected.
func (f *HTTPForwarder) Close() { f.transport.CloseIdleConnections() }

// Phases of an exchange the watchdog bounds.
const (
	stallConn int32 = iota // waiting for a connection slot (max_conns)
	stallSend              // sending the request body
	stallRead              // reading the response body
)

// stallError is an exchange that stopped making progress. It is a timeout
// (504) except while waiting for a connection slot (503).
type stallError struct {
	phase int32
	limit time.Duration
}

func (e *stallError) Error() string {
	switch e.phase {
	case stallConn:
		return fmt.Sprintf("no free connection to the target within %v (max_conns reached)", e.limit)
	case stallSend:
		return fmt.Sprintf("the target took no request body bytes for %v", e.limit)
	}
	return fmt.Sprintf("the target sent no response bytes for %v", e.limit)
}

func (e *stallError) Timeout() bool   { return e.phase != stallConn }
func (e *stallError) Temporary() bool { return true }

// Unwrap classes a wait for a connection slot as ErrConnLimit (503).
func (e *stallError) Unwrap() error {
	if e.phase == stallConn {
		return ErrConnLimit
	}
	return nil
}

// Forward implements Forwarder.
func (f *HTTPForwarder) Forward(w http.ResponseWriter, out *http.Request, t *upstream.Target, edit ResponseEditor) error {
	if f.setupErr != nil {
		return &Error{Phase: PhaseConnect, Target: t.Name, Err: f.setupErr}
	}
	out.URL.Scheme = f.scheme
	out.URL.Host = t.Addr
	parent := out.Context()
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	wd := newWatchdog(func(phase int32) { cancel(&stallError{phase: phase, limit: f.limit(phase)}) })
	defer wd.stop()
	ctx = f.watchConnect(ctx, wd, out.Body != nil)
	out = out.WithContext(ctx)
	if out.Body != nil {
		out.Body = &progressBody{rc: out.Body, wd: wd}
	}

	res, err := f.transport.RoundTrip(out)
	if err != nil {
		return f.explain(classify(err, parent, ctx, t.Name))
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		wd.stop() // the tunnel has its own idle limit
		back, ok := res.Body.(io.ReadWriteCloser)
		if !ok {
			res.Body.Close()
			return &Error{Phase: PhaseRequest, Target: t.Name, Err: errors.New("target switched protocols without a usable connection")}
		}
		return Tunnel{Upgrades: f.Upgrades, IdleTimeout: f.opts.UpgradeIdleTimeout}.Relay(w, out, res.StatusCode, res.Header, back, t, edit)
	}
	defer res.Body.Close()
	wd.arm(stallRead, f.opts.ReadTimeout)

	h := w.Header()
	CopyResponseHeader(h, res.Header)
	AnnounceTrailers(h, res.Trailer)
	if edit != nil {
		edit.EditResponse(res.StatusCode, h)
	}
	w.WriteHeader(res.StatusCode)
	stream := res.ContentLength == -1 || IsEventStream(res.Header)
	if stream {
		// Send the header now: a stream's first event may be far away.
		if err := wrap.Flush(w); err != nil {
			return &Error{Phase: PhaseResponse, Target: t.Name, Err: err, ClientGone: true}
		}
	}
	if err := CopyBody(w, res.Body, stream, wd); err != nil {
		err.Target = t.Name
		if parent.Err() != nil {
			err.ClientGone = true
		} else if cause := context.Cause(ctx); cause != nil && !err.ClientGone {
			err.Err = cause
		}
		return err
	}
	CopyTrailers(h, res.Trailer)
	return nil
}

func (f *HTTPForwarder) limit(phase int32) time.Duration {
	switch phase {
	case stallConn:
		return f.opts.DialTimeout
	case stallSend:
		return f.opts.SendTimeout
	}
	return f.opts.ReadTimeout
}

// watchConnect arms the watchdog for the start of an exchange. With a
// connection limit, the wait for a free connection is bounded by the dial
// timeout (net/http would wait forever); the upload phase starts once a
// connection is had. Without a body there is nothing to watch until the
// response header, which ResponseHeaderTimeout bounds.
func (f *HTTPForwarder) watchConnect(ctx context.Context, wd *watchdog, hasBody bool) context.Context {
	next, d := stallSend, f.opts.SendTimeout
	if !hasBody {
		d = 0
	}
	if f.opts.MaxConns <= 0 {
		wd.arm(next, d)
		return ctx
	}
	wd.arm(stallConn, f.opts.DialTimeout)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { wd.arm(next, d) },
	})
}

// progressBody feeds the watchdog as the request body is sent, and
// disarms it when the body is done: the wait for the response header is
// ResponseHeaderTimeout's.
type progressBody struct {
	rc io.ReadCloser
	wd *watchdog
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.wd.progress()
	}
	if err == io.EOF {
		b.wd.disarmIf(stallSend)
	}
	return n, err
}

func (b *progressBody) Close() error { return b.rc.Close() }

// IsEventStream reports a text/event-stream response without parsing the
// media type's parameters (mime.ParseMediaType allocates a map per call).
func IsEventStream(h http.Header) bool {
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	const es = "text/event-stream"
	v := strings.TrimLeft(ct[0], " \t")
	if len(v) < len(es) || !strings.EqualFold(v[:len(es)], es) {
		return false
	}
	rest := v[len(es):]
	return rest == "" || rest[0] == ';' || rest[0] == ' ' || rest[0] == '\t'
}

// AnnounceTrailers declares the trailer names the upstream announced, so
// they can be sent after the body. An HTTP/2 target may send a length
// with trailers; it is dropped, since HTTP/1.1 carries trailers only in a
// chunked body. (Trailers a target did not announce still reach HTTP/2
// and HTTP/3 clients, and HTTP/1.1 clients of a body without a length.)
func AnnounceTrailers(h http.Header, tr http.Header) {
	if len(tr) == 0 {
		return
	}
	delete(h, "Content-Length")
	names := make([]string, 0, len(tr))
	for k := range tr {
		names = append(names, k)
	}
	h["Trailer"] = []string{strings.Join(names, ", ")}
}

// CopyTrailers sends trailers received after the body. Ones the upstream
// did not announce up front use the TrailerPrefix form.
func CopyTrailers(h http.Header, tr http.Header) {
	if len(tr) == 0 {
		return
	}
	announced := h["Trailer"]
	for k, vv := range tr {
		if len(announced) > 0 && hasToken(announced, k) {
			h[k] = vv
		} else {
			h[http.TrailerPrefix+k] = vv
		}
	}
}

// Progress hears of every read of a body being relayed, for a stall
// watch.
type Progress interface{ Progress() }

// CopyBody streams a response body src to w, flushing after every write
// when stream is set and telling p (nil for none) of each read. Errors
// say which side failed: reading the upstream, or writing the client
// (ClientGone).
func CopyBody(w http.ResponseWriter, src io.Reader, stream bool, p Progress) *Error {
	bp := copybuf.Get()
	defer copybuf.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if p != nil {
				p.Progress()
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				return &Error{Phase: PhaseResponse, Err: werr, ClientGone: true}
			}
			if stream {
				if ferr := wrap.Flush(w); ferr != nil {
					return &Error{Phase: PhaseResponse, Err: ferr, ClientGone: true}
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if errors.Is(rerr, http.ErrBodyReadAfterClose) {
				return nil
			}
			return &Error{Phase: PhaseResponse, Err: rerr}
		}
	}
}
