package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// Handler forwards requests to an upstream pool: it builds the outbound
// request from the inbound one (which it never modifies), picks targets,
// retries where that is safe, and hands failures to the funnel. Its fields
// are set once at compile time; it is safe for concurrent use.
type Handler struct {
	Pool       *upstream.Pool
	Forwarder  Forwarder
	Forwarding *Forwarding
	Funnel     *funnel.Funnel
	// Rewrite maps the normalized request path to the escaped path sent
	// upstream. Nil sends the client's original path unchanged.
	Rewrite func(path string) string
	// HostHeader is the Host sent upstream: "" keeps the client's,
	// "target" uses the target's host:port, anything else is sent as is.
	HostHeader string
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := reqinfo.From(r.Context())
	info.Upstream = h.Pool.Name
	up := upgradeOf(r)
	if up != "" && h.Pool.Scheme == upstream.SchemeH2C {
		h.Funnel.Fail(w, r, fmt.Errorf("upstream %s: %w", h.Pool.Name, ErrUpgradeH2C))
		return
	}
	// One allocation holds the attempt's state, the outbound request and
	// its URL, and the body guard.
	a := &attempt{h: h, c: upstream.Choice{Req: r, ClientIP: info.ClientIP}}
	a.body.rc = r.Body
	body := &a.body
	out := h.outbound(r, info, up, a)
	if out.Body != nil && r.ProtoMajor == 1 && wrap.EnableFullDuplex(w) == nil {
		// Full duplex lets the target answer while the client is still
		// sending, as HTTP/2 always allows; without it net/http would
		// discard (or refuse) the rest of the body once the response
		// header is out. The body must then be closed before returning:
		// net/http would otherwise read it in the background while it
		// reads the next request, and panic (golang/go#68560).
		defer r.Body.Close()
	}
	h.Pool.Request()
	if err := h.forward(w, out, a, info, body); err != nil {
		h.Funnel.Fail(w, r, err)
	}
}

// upgradeOf returns the protocol the request may switch to, or "" when it
// is forwarded as a plain request. Refused: anything but HTTP/1.1; h2c,
// which would hand the client a raw HTTP/2 connection to the target past
// every route and header rule ("h2c smuggling"); and requests with a body,
// whose upload would still be in progress when the connection is taken
// over for the tunnel (a WebSocket handshake never has one).
func upgradeOf(r *http.Request) string {
	if r.ProtoMajor != 1 || r.ContentLength != 0 {
		return ""
	}
	up := upgradeType(r.Header)
	if strings.EqualFold(up, "h2c") {
		return ""
	}
	return up
}

// forward tries targets until one answers, retrying only where safe.
func (h *Handler) forward(w http.ResponseWriter, out *http.Request, a *attempt, info *reqinfo.Info, body *bodyGuard) error {
	var last error
	for {
		t := h.Pool.Pick(&a.c)
		if t == nil {
			if last != nil {
				return last
			}
			return &NoHealthyError{Upstream: h.Pool.Name, Targets: len(h.Pool.Targets)}
		}
		info.Target = t.Name
		info.Attempts++
		a.target, a.failed = t, false
		if h.HostHeader == "target" {
			out.Host = t.Addr
		}
		t.Begin()
		err := h.Forwarder.Forward(w, out, t, a)
		t.End()
		if err == nil {
			if !a.failed {
				h.Pool.Succeeded(t)
			}
			return nil
		}
		var fe *Error
		if !errors.As(err, &fe) {
			return err
		}
		if cerr := body.err(); cerr != nil && fe.Phase != PhaseResponse {
			// Reading the client's body failed (too large, stalled, cut
			// short, malformed): the client's fault, never the target's.
			return clientBodyError(fe, cerr)
		}
		if fe.ClientGone {
			return err
		}
		if !a.failed && !errors.Is(fe, ErrConnLimit) {
			// Not counted: a fail_status answer (already counted) and a
			// busy connection limit (load, not ill health).
			h.Pool.Failed(t)
		}
		last = err
		if !retryable(fe, out, body) || a.c.Attempts() >= h.Pool.Attempts || !h.Pool.AllowRetry() {
			return last
		}
	}
}

// retryable reports whether a failed attempt may be repeated elsewhere.
func retryable(fe *Error, out *http.Request, body *bodyGuard) bool {
	switch fe.Phase {
	case PhaseConnect:
		// Nothing was sent; the body, if any, is untouched.
		return !body.read.Load()
	case PhaseRequest:
		return idempotent(out) && out.Body == nil
	}
	return false
}

// idempotent follows RFC 9110 section 9.2.2, plus requests carrying an
// Idempotency-Key, whose sender promises a repeat is harmless.
func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	_, ok := r.Header["Idempotency-Key"]
	return ok
}

// outbound builds the request sent upstream. The inbound request is not
// modified; header value slices are shared read-only.
func (h *Handler) outbound(r *http.Request, info *reqinfo.Info, upgrade string, a *attempt) *http.Request {
	out := &a.out
	*out = *r // a shallow copy, same context
	out.Header = h.Forwarding.outboundHeader(r, info, upgrade)
	u := &a.url
	*u = url.URL{RawQuery: r.URL.RawQuery, ForceQuery: r.URL.ForceQuery}
	if h.Rewrite != nil {
		setTargetPath(u, h.Rewrite(info.Path))
	} else {
		setTargetPath(u, RequestPath(r))
	}
	out.URL = u
	out.RequestURI = ""
	out.Close = false
	if h.HostHeader != "" && h.HostHeader != "target" {
		out.Host = h.HostHeader
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		out.Body, out.GetBody, out.ContentLength = nil, nil, 0
	} else {
		out.Body = &a.body
	}
	// Middleware's edits (request_headers, identities) come last, so a
	// route may override what forwarding wrote.
	info.EditOutbound(out.Header, r)
	info.EditOutboundURL(u)
	return out
}

// attempt is the per-request state the forwarder reports back to.
type attempt struct {
	h      *Handler
	c      upstream.Choice
	target *upstream.Target
	failed bool // the response status counted as a passive failure

	out  http.Request // the outbound request
	url  url.URL      // its URL
	body bodyGuard    // the client's body, as the forwarder reads it
}

// EditResponse implements ResponseEditor.
func (a *attempt) EditResponse(status int, hdr http.Header) {
	if a.h.Pool.FailStatus(status) {
		a.failed = true
		a.h.Pool.Failed(a.target)
	}
	a.h.Pool.Stamp(hdr, &a.c, a.target)
	if a.h.Forwarding.Via {
		hdr["Via"] = appendValue(hdr["Via"], "1.1 gatehouse")
	}
}

// bodyGuard passes the client's body to the transport while keeping it
// open if the transport closes it after a failed attempt, and notes
// whether any of it was consumed. The server closes the real body.
type bodyGuard struct {
	rc      io.ReadCloser
	read    atomic.Bool // written by the transport's goroutine
	readErr atomic.Pointer[error]
}

func (b *bodyGuard) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 && !b.read.Load() {
		b.read.Store(true)
	}
	if err != nil && err != io.EOF {
		b.readErr.CompareAndSwap(nil, &err)
	}
	return n, err
}

// err is the first error reading the client's body, other than EOF.
func (b *bodyGuard) err() error {
	if p := b.readErr.Load(); p != nil {
		return *p
	}
	return nil
}

// clientBodyError reports a failed attempt whose cause was the client's
// body: over the size limit (413), stalled (408), cut short (the client
// went away: 499), or malformed, such as bad chunked encoding (400).
func clientBodyError(fe *Error, cerr error) error {
	var mb *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(cerr, &mb):
		return fmt.Errorf("request body to %s: %w", fe.Target, cerr)
	case errors.As(cerr, &ne) && ne.Timeout():
		return fmt.Errorf("request body to %s: %w (%v)", fe.Target, funnel.ErrRequestTimeout, cerr)
	case errors.Is(cerr, io.ErrUnexpectedEOF), errors.Is(cerr, net.ErrClosed), errors.Is(cerr, syscall.ECONNRESET):
		return &Error{Phase: fe.Phase, Target: fe.Target, Err: fmt.Errorf("reading the request body: %w", cerr), ClientGone: true}
	}
	return fmt.Errorf("request body to %s: %w (%v)", fe.Target, funnel.ErrBadRequest, cerr)
}

func (b *bodyGuard) Close() error { return nil }

// Idempotent reports whether a request may be repeated without harm
// (RFC 9110 section 9.2.2, or an Idempotency-Key), for a forwarder that
// retries on a fresh connection.
func Idempotent(r *http.Request) bool { return idempotent(r) }
