package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// Component is a compiled part of a runtime that holds resources or runs
// background work: an upstream pool's health checks, a static route's
// open directory. Start begins its work, bound to ctx; Close stops it,
// waits for it to end and releases what it holds. A runtime starts its
// components when it goes into service and closes them when it retires,
// once the requests it was serving have finished.
type Component interface {
	Start(ctx context.Context) error
	Close() error
}

// life is a runtime's lifecycle: the requests it serves, counted so that
// it closes only when the last has finished (or the drain ran out).
type life struct {
	// state counts requests in flight; closedBit is set once the runtime
	// closed, after which no request may begin on it.
	state    atomic.Int64
	retiring atomic.Bool
	idle     chan struct{} // closed with closedBit
	cancel   context.CancelFunc
}

const closedBit = 1 << 62

// acquire registers a request; false once the runtime has closed.
func (l *life) acquire() bool {
	for {
		n := l.state.Load()
		if n&closedBit != 0 {
			return false
		}
		if l.state.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release ends a request; the last one on a retiring runtime closes it.
func (l *life) release() {
	if l.state.Add(-1) == 0 && l.retiring.Load() {
		l.markClosed(false)
	}
}

// markClosed sets closedBit: only when no request is in flight, unless
// forced. It reports whether it was this call that closed.
func (l *life) markClosed(force bool) bool {
	for {
		n := l.state.Load()
		if n&closedBit != 0 || (!force && n != 0) {
			return false
		}
		if l.state.CompareAndSwap(n, n|closedBit) {
			close(l.idle)
			return true
		}
	}
}

// TryServeHTTP serves r if rt is still in service and reports whether it
// did. A request that arrives while rt is being replaced finds it
// closed; the caller then serves it with the runtime that replaced rt.
func (rt *Runtime) TryServeHTTP(w http.ResponseWriter, r *http.Request) bool {
	if !rt.acquire() {
		return false
	}
	defer rt.release()
	rt.ServeHTTP(w, r)
	return true
}

// Start puts rt into service: its forwarders and target states become the
// ones in use, its certificates are served and its components start.
func (rt *Runtime) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	rt.cancel = cancel
	rt.idle = make(chan struct{})
	var errs []error
	for _, c := range rt.components {
		if err := c.Start(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	rt.env.adopt(rt)
	rt.env.TLS.Use(rt.certs)
	return errors.Join(errs...)
}

// Retire takes rt out of service: background work stops at once; once
// the requests in flight have finished, or ctx is done, its components
// close. It returns when they have.
func (rt *Runtime) Retire(ctx context.Context) {
	if rt.cancel != nil {
		rt.cancel()
	}
	rt.retiring.Store(true)
	if rt.idle == nil { // never started
		rt.idle = make(chan struct{})
	}
	if !rt.markClosed(false) {
		select {
		case <-rt.idle:
		case <-ctx.Done():
			rt.markClosed(true)
		}
	}
	rt.close()
}

// close closes the components, in reverse order of creation, and the
// stores the runtime made if it never started.
func (rt *Runtime) close() {
	rt.closeFresh()
	for i := len(rt.components) - 1; i >= 0; i-- {
		_ = rt.components[i].Close()
	}
}

// poolComponent runs an upstream pool's active health checks; Close
// waits for the checkers, which stop when the runtime's context ends.
type poolComponent struct{ p *upstream.Pool }

func (c poolComponent) Start(ctx context.Context) error { c.p.Start(ctx); return nil }
func (c poolComponent) Close() error                    { c.p.Wait(); return nil }

// closerComponent is a part with nothing to start that holds resources
// until the runtime retires (a forward authenticator's connections).
type closerComponent struct{ c io.Closer }

func (c closerComponent) Start(context.Context) error { return nil }
func (c closerComponent) Close() error                { return c.c.Close() }
