package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// Forwarder sends one attempt of a request to a target and streams the
// answer back to the client. It is the engine of the proxy: routing,
// balancing, retries and headers live outside it, so the engine can be
// replaced without touching them.
//
// out is the outbound request, already carrying the upstream headers, path
// and body; Forward points it at t and must not keep it after returning.
// Before writing the response header to w, Forward removes hop-by-hop
// headers and calls edit with the status and the header about to be sent.
// A nil error means a response was relayed in full. Errors are *Error so
// the caller can tell whether a retry is safe.
//
// Close drops the forwarder's idle pooled connections once it is no
// longer used; requests in flight on it finish normally.
type Forwarder interface {
	Forward(w http.ResponseWriter, out *http.Request, t *upstream.Target, edit ResponseEditor) error
	Close()
}

// ResponseEditor adjusts a response header before it is written, for
// example to set a sticky-session cookie.
type ResponseEditor interface {
	EditResponse(status int, h http.Header)
}

// Phase says how far an attempt got before it failed.
type Phase int

const (
	// PhaseConnect: no connection was made, so nothing was sent. Any
	// request may be retried elsewhere.
	PhaseConnect Phase = iota
	// PhaseRequest: the request (or part of it) may have reached the
	// target, but no response header was written to the client. Only
	// idempotent requests with a replayable body may be retried.
	PhaseRequest
	// PhaseResponse: the response header was already sent to the client;
	// the response can only be cut short.
	PhaseResponse
)

func (p Phase) String() string {
	switch p {
	case PhaseConnect:
		return "connect"
	case PhaseRequest:
		return "request"
	}
	return "response"
}

// Error is a failed attempt to forward to Target.
type Error struct {
	Phase  Phase
	Target string
	Err    error
	// ClientGone is set when the failure was the client going away, not
	// the target misbehaving.
	ClientGone bool
}

func (e *Error) Error() string {
	if e.ClientGone {
		return fmt.Sprintf("client went away during %s to %s: %v", e.Phase, e.Target, e.Err)
	}
	return fmt.Sprintf("%s to %s: %v", e.Phase, e.Target, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ClientClosed implements funnel.ClientCloser.
func (e *Error) ClientClosed() bool { return e.ClientGone }

// ResponseStarted implements funnel.Committer.
func (e *Error) ResponseStarted() bool { return e.Phase == PhaseResponse }

// Failures of the forwarder's own, beside the funnel's common classes.
var (
	// ErrConnLimit: every connection to the target allowed by max_conns
	// stayed busy for the dial timeout (503).
	ErrConnLimit = &funnel.Class{Status: http.StatusServiceUnavailable,
		Message: "service unavailable: the upstream is at its connection limit",
		Reason:  "no free connection to the target (max_conns reached)"}
	// ErrUpgradeH2C: a protocol upgrade (WebSocket) was asked of an h2c
	// upstream; HTTP/2 has no Upgrade, so it cannot be passed on (502).
	ErrUpgradeH2C = &funnel.Class{Status: http.StatusBadGateway,
		Message: funnel.ErrBadGateway.Message,
		Reason:  "cannot pass a protocol upgrade (WebSocket) to h2c targets, which speak HTTP/2 only; use http:// or https:// targets for this route"}
)

// NoHealthyError says an upstream had no target to try (503).
type NoHealthyError struct {
	Upstream string
	Targets  int
}

func (e *NoHealthyError) Error() string {
	return fmt.Sprintf("upstream %q has no healthy target (0 of %d available)", e.Upstream, e.Targets)
}

// Unwrap classes the error for the funnel.
func (e *NoHealthyError) Unwrap() error { return funnel.ErrUnavailable }

// classify wraps a RoundTrip error with the phase it happened in. parent is
// the request's context, ctx the attempt's (canceled with a *stallError
// when the watchdog fired).
func classify(err error, parent, ctx context.Context, target string) *Error {
	e := &Error{Phase: PhaseRequest, Target: target, Err: err}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED) || handshakeFailed(err) {
		e.Phase = PhaseConnect
	}
	if errors.Is(parent.Err(), context.Canceled) {
		e.ClientGone = true
		return e
	}
	var stall *stallError
	if errors.As(context.Cause(ctx), &stall) {
		e.Err = stall
		if stall.phase == stallConn {
			e.Phase = PhaseConnect // nothing was sent
		}
	}
	return e
}

// handshakeFailed reports a TLS handshake that failed, so nothing was sent:
// the target's certificate did not verify, it refused ours, or it does not
// speak TLS.
func handshakeFailed(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		record   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &record) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// errH2NotEstablished is net/http's error for an HTTP/2 connection the
// target closed before the first request, which hides the reason.
const errH2NotEstablished = "http2: client conn could not be established"

// explain adds the likely cause to an HTTP/2 connection the target closed
// at once: nothing was sent on it, so it counts as a failed connect.
func (f *HTTPForwarder) explain(e *Error) *Error {
	if e.ClientGone || e.Err == nil || e.Err.Error() != errH2NotEstablished {
		return e
	}
	e.Phase = PhaseConnect
	switch f.opts.Scheme {
	case upstream.SchemeHTTPS:
		e.Err = fmt.Errorf("%w: the target closed the connection right after the TLS handshake, as one does (with TLS 1.3) that requires a client certificate it did not get or accept; check the upstream's tls.cert and tls.key", e.Err)
	case upstream.SchemeH2C:
		e.Err = fmt.Errorf("%w: the target closed the connection at once; is it an HTTP/2 server? Use an http:// target for HTTP/1.1 servers", e.Err)
	}
	return e
}
