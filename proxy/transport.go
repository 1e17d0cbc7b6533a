package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// TransportOptions configure the connection pool to one upstream's targets.
type TransportOptions struct {
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	// MaxIdleConns is the idle keep-alive connections kept per target.
	MaxIdleConns int
	// MaxConns limits connections per target; 0 means no limit.
	MaxConns int
	// UpgradeIdleTimeout closes an upgraded (WebSocket) connection when no
	// byte has moved either way for this long. 0 means never.
	UpgradeIdleTimeout time.Duration
}

// HTTPForwarder is the Forwarder built on net/http's Transport: HTTP/1.1
// to targets with a keep-alive pool per target. Safe for concurrent use.
type HTTPForwarder struct {
	transport *http.Transport
	opts      TransportOptions
	// Upgrades tracks upgraded connections so shutdown can close them.
	// Nil means untracked.
	Upgrades *Upgrades
}

// NewHTTPForwarder returns a forwarder with its own connection pool.
func NewHTTPForwarder(o TransportOptions, ups *Upgrades) *HTTPForwarder {
	d := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                  nil, // never send upstream traffic through an environment proxy
		DialContext:            d.DialContext,
		MaxIdleConns:           0, // bounded per host below
		MaxIdleConnsPerHost:    o.MaxIdleConns,
		MaxConnsPerHost:        o.MaxConns,
		IdleConnTimeout:        o.IdleConnTimeout,
		ResponseHeaderTimeout:  o.ResponseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true, // pass encodings through untouched
		MaxResponseHeaderBytes: 1 << 20,
		WriteBufferSize:        32 << 10,
		ReadBufferSize:         32 << 10,
	}
	return &HTTPForwarder{transport: t, opts: o, Upgrades: ups}
}

// Close drops idle pooled connections. In-flight requests are unaffected.
func (f *HTTPForwarder) Close() { f.transport.CloseIdleConnections() }

// Forward implements Forwarder.
func (f *HTTPForwarder) Forward(w http.ResponseWriter, out *http.Request, t *upstream.Target, edit ResponseEditor) error {
	out.URL.Scheme = t.URL.Scheme
	out.URL.Host = t.Addr
	res, err := f.transport.RoundTrip(out)
	if err != nil {
		return classify(err, out, t.Name)
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		return f.upgrade(w, out, res, t, edit)
	}
	defer res.Body.Close()

	h := w.Header()
	copyResponseHeader(h, res.Header)
	announceTrailers(h, res.Trailer)
	if edit != nil {
		edit.EditResponse(res.StatusCode, h)
	}
	w.WriteHeader(res.StatusCode)
	stream := res.ContentLength == -1 || isEventStream(res.Header)
	rc := http.NewResponseController(w)
	if stream {
		// Send the header now: a stream's first event may be far away.
		if err := rc.Flush(); err != nil {
			return &Error{Phase: PhaseResponse, Target: t.Name, Err: err, ClientGone: true}
		}
	}
	if err := copyBody(w, rc, res.Body, stream); err != nil {
		err.Target = t.Name
		if out.Context().Err() != nil {
			err.ClientGone = true
		}
		return err
	}
	copyTrailers(h, res.Trailer)
	return nil
}

// isEventStream reports a text/event-stream response without parsing the
// media type's parameters (mime.ParseMediaType allocates a map per call).
func isEventStream(h http.Header) bool {
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

// announceTrailers declares the trailer names the upstream announced, so
// they can be sent after the body.
func announceTrailers(h http.Header, tr http.Header) {
	if len(tr) == 0 {
		return
	}
	names := make([]string, 0, len(tr))
	for k := range tr {
		names = append(names, k)
	}
	h["Trailer"] = []string{strings.Join(names, ", ")}
}

// copyTrailers sends trailers received after the body. Ones the upstream
// did not announce up front use the TrailerPrefix form.
func copyTrailers(h http.Header, tr http.Header) {
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

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyBody streams src to w, flushing after every write when stream is set.
// Errors say which side failed: reading the upstream or writing the client.
func copyBody(w io.Writer, rc *http.ResponseController, src io.Reader, stream bool) *Error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return &Error{Phase: PhaseResponse, Err: werr, ClientGone: true}
			}
			if stream {
				if ferr := rc.Flush(); ferr != nil {
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
