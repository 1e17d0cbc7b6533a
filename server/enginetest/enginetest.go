// Package enginetest writes down, as tests any HTTP/1.1 engine must pass,
// what Gatehouse's handlers rely on from the engine that serves them:
// deadlines and full duplex through http.ResponseController, Hijack for
// upgrades, panic(http.ErrAbortHandler) cutting the connection,
// http.MaxBytesReader, the raw request target, request and response
// trailers, Expect: 100-continue, flushing and chunked framing,
// pipelining, the keep-alive rules of HTTP/1.0 and 1.1, HEAD, the
// request's fields and context, and the header size limit.
//
// net/http's *http.Server passes it (the package's own test proves it);
// server.H1Engine implementations run it from package server's tests, fed
// connections the way the socket layer feeds them. Every contract is a
// subtest of Run with a name that says what it checks, using real clients
// over loopback: net/http's where it will do, raw TCP where the exact
// bytes matter.
//
// The package must not import Gatehouse's own packages (package server
// tests import it).
package enginetest

import (
	"net/http"
	"testing"
	"time"
)

// Start serves h with the engine under test on a fresh loopback listener
// and returns the address to dial ("127.0.0.1:port"). It stops the engine
// and frees the listener through t.Cleanup. The engine must refuse request
// headers (request line included) longer than HeaderLimit bytes, and
// accept shorter ones; it needs no other setting, and must set no read or
// write timeout shorter than 10 seconds.
type Start func(t *testing.T, h http.Handler) (addr string)

// HeaderLimit is the size of a request's header section, request line
// included, beyond which the engine answers 431. net/http's MaxHeaderBytes
// for it is HeaderLimit-4096 (net/http reads 4096 bytes past its setting).
const HeaderLimit = 16 << 10

// wait bounds every wait in the suite: generous, so that a loaded machine
// never fails a test that would pass, while a broken contract still fails
// in finite time. Passing tests never wait this long.
const wait = 10 * time.Second

// contract is one subtest: what the engine must do, checked with start.
type contract struct {
	name string
	run  func(t *testing.T, start Start)
}

// contracts lists every subtest Run runs, grouped as the files are.
func contracts() []contract {
	var cs []contract
	for _, group := range [][]contract{
		deadlineContracts, duplexContracts, abortContracts, targetContracts,
		trailerContracts, continueContracts, framingContracts, lifetimeContracts,
	} {
		cs = append(cs, group...)
	}
	return cs
}

// Run runs every contract as a parallel subtest of t, each on its own
// engine started with start.
func Run(t *testing.T, start Start) {
	for _, c := range contracts() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, start)
		})
	}
}

// await returns the next value from ch, failing t if none comes within
// wait.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out after %s waiting for %s", wait, what)
		var zero T
		return zero
	}
}

// hold blocks a handler until release is closed or the request ends,
// reporting whether it was released.
func hold(r *http.Request, release <-chan struct{}) bool {
	select {
	case <-release:
		return true
	case <-r.Context().Done():
		return false
	case <-time.After(wait):
		return false
	}
}
