package enginetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A request's lifetime: the proxy stops work for a client that went away
// (r.Context()), tells a cut upload (499) from a bad one by the body's
// error, and the header limit bounds what one client can make the engine
// buffer.
var lifetimeContracts = []contract{
	{"Context/CanceledWhenClientLeavesWhileHandlerWaits", contextCanceledIdle},
	{"Context/CanceledWhenClientLeavesMidBody", contextCanceledMidBody},
	{"HeaderLimit/OverIs431", headerLimitOver},
	{"HeaderLimit/UnderIsServed", headerLimitUnder},
}

// contextCanceledIdle: a client that closes its connection while the
// handler works (its request already read whole) cancels r.Context().
func contextCanceledIdle(t *testing.T, start Start) {
	arrived := make(chan struct{}, 1)
	canceled := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			canceled <- context.Cause(r.Context())
		case <-time.After(wait):
			canceled <- nil
		}
	}))
	c := dial(t, addr)
	c.send("GET /slow HTTP/1.1\nHost: example.test\n\n")
	await(t, arrived, "the request to reach the handler")
	c.Close()
	if err := await(t, canceled, "the handler to see its context end"); err == nil {
		t.Errorf("r.Context() still live %s after the client closed the connection", wait)
	}
}

// contextCanceledMidBody: a client that closes its connection halfway
// through its body makes the handler's body read fail with
// io.ErrUnexpectedEOF (or a reset), never a clean EOF, and cancels
// r.Context().
func contextCanceledMidBody(t *testing.T, start Start) {
	type result struct{ readErr, ctxErr error }
	halfway := make(chan struct{}, 1)
	got := make(chan result, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		if _, err := io.ReadFull(r.Body, make([]byte, 10)); err != nil {
			res.readErr = err
			got <- res
			return
		}
		halfway <- struct{}{}
		_, res.readErr = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
			res.ctxErr = r.Context().Err()
		case <-time.After(wait):
		}
		got <- res
	}))
	c := dial(t, addr)
	c.send("POST /upload HTTP/1.1\nHost: example.test\nContent-Length: 100\n\n0123456789")
	await(t, halfway, "the handler to read the first part of the body")
	c.Close()
	res := await(t, got, "the handler")
	if !errors.Is(res.readErr, io.ErrUnexpectedEOF) && !errors.Is(res.readErr, syscall.ECONNRESET) {
		t.Errorf("reading a body cut short: %v, want io.ErrUnexpectedEOF or a reset", res.readErr)
	}
	if res.ctxErr == nil {
		t.Errorf("r.Context() still live %s after the client closed mid-body", wait)
	}
}

// headerLimitOver: a request whose header section is over HeaderLimit is
// answered 431 without reaching the handler, and the connection closes.
func headerLimitOver(t *testing.T, start Start) {
	reached := make(chan struct{}, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- struct{}{}
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\nX-Big: " + strings.Repeat("a", HeaderLimit+1024) + "\n\n")
	res, _, err := c.tryResponse("GET")
	if res == nil {
		t.Fatalf("no answer to a header over the limit: %v", err)
	}
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", res.StatusCode)
	}
	c.expectClosed("after a 431")
	select {
	case <-reached:
		t.Error("the request over the header limit reached the handler")
	default:
	}
}

// headerLimitUnder: a header section well under HeaderLimit is served.
func headerLimitUnder(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\nX-Big: " + strings.Repeat("a", HeaderLimit/2) + "\n\n")
	if res, body := c.response("GET"); res.StatusCode != 200 || body != "ok" {
		t.Errorf("got %d %q, want 200 ok", res.StatusCode, body)
	}
}
