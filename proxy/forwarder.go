package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

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
type Forwarder interface {
	Forward(w http.ResponseWriter, out *http.Request, t *upstream.Target, edit ResponseEditor) error
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

// classify wraps a RoundTrip error with the phase it happened in. parent is
// the request's context, ctx the attempt's (canceled with a *stallError
// when the watchdog fired).
func classify(err error, parent, ctx context.Context, target string) *Error {
	e := &Error{Phase: PhaseRequest, Target: target, Err: err}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED) {
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
