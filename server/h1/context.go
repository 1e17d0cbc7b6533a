package h1

import (
	"context"
	"sync"
)

// reqCtx is a request's context: the connection's values, canceled when
// the client goes away while the handler works, or when the handler
// returns. Watching for the client's leaving needs a read on the
// connection, so it starts only when someone asks (Done or AfterFunc):
// most requests are answered without anyone waiting on their context,
// and pay for no goroutine and no read.
type reqCtx struct {
	context.Context // the connection's; never canceled
	c               *conn

	mu     sync.Mutex
	done   chan struct{} // made on the first Done
	err    error
	afters []*afterFunc
	asked  bool // Done or AfterFunc was called: the watch was asked for

	// slotKey and slotVal are one value attached after the context was
	// made (Attach), answered by Value as context.WithValue would: the
	// root handler's per-request facts, without a context and a request
	// copy of their own. Set only by the handler's goroutine, before
	// anything else may see the context.
	slotKey, slotVal any
}

// Attach makes Value(key) return val, once per request: a second call
// reports false and changes nothing, so the caller wraps the context
// itself. key must be comparable, as for context.WithValue.
func (x *reqCtx) Attach(key, val any) bool {
	if x.slotKey != nil || key == nil {
		return false
	}
	x.slotKey, x.slotVal = key, val
	return true
}

func (x *reqCtx) Value(key any) any {
	if x.slotKey != nil && key == x.slotKey {
		return x.slotVal
	}
	return x.Context.Value(key)
}

type afterFunc struct {
	f    func()
	done bool // ran or stopped
}

func (x *reqCtx) Done() <-chan struct{} {
	x.mu.Lock()
	if x.done == nil {
		x.done = make(chan struct{})
		if x.err != nil {
			close(x.done)
		}
	}
	d := x.done
	watch := x.ask()
	x.mu.Unlock()
	if watch {
		x.c.watchClient()
	}
	return d
}

// ask records that the client's leaving matters, reporting whether the
// watch must start now; x.mu is held.
func (x *reqCtx) ask() bool {
	if x.asked || x.err != nil {
		return false
	}
	x.asked = true
	return true
}

func (x *reqCtx) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

// AfterFunc lets context.AfterFunc run f when x ends without a goroutine
// waiting for it.
func (x *reqCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	x.mu.Lock()
	if x.err != nil {
		x.mu.Unlock()
		a.done = true
		go f()
		return func() bool { return false }
	}
	x.afters = append(x.afters, a)
	watch := x.ask()
	x.mu.Unlock()
	if watch {
		x.c.watchClient()
	}
	return func() bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		if a.done {
			return false
		}
		a.done = true
		return true
	}
}

// cancel ends x with err (the first call wins).
func (x *reqCtx) cancel(err error) {
	x.mu.Lock()
	if x.err != nil {
		x.mu.Unlock()
		return
	}
	x.err = err
	if x.done != nil {
		close(x.done)
	}
	afters := x.afters
	x.afters = nil
	for _, a := range afters {
		if !a.done {
			a.done = true
			go a.f()
		}
	}
	x.mu.Unlock()
}

// watching reports whether the client's leaving was asked about.
func (x *reqCtx) watching() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.asked
}

func (x *reqCtx) String() string { return "h1.requestContext" }
