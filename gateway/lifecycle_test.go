package gateway

import (
	"context"
	"sync"
	"testing"
	"time"
)

type fakeComponent struct {
	mu      sync.Mutex
	started bool
	closed  bool
}

func (f *fakeComponent) Start(context.Context) error {
	f.mu.Lock()
	f.started = true
	f.mu.Unlock()
	return nil
}
func (f *fakeComponent) Close() error   { f.mu.Lock(); f.closed = true; f.mu.Unlock(); return nil }
func (f *fakeComponent) isClosed() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.closed }

func retiring(c Component) *Runtime {
	rt := &Runtime{components: []Component{c}}
	rt.idle = make(chan struct{})
	return rt
}

// A retiring runtime closes its components only after its last request.
func TestRetireWaitsForRequests(t *testing.T) {
	c := &fakeComponent{}
	rt := retiring(c)
	if !rt.acquire() {
		t.Fatal("acquire on a runtime in service failed")
	}
	done := make(chan struct{})
	go func() { rt.Retire(context.Background()); close(done) }()
	select {
	case <-done:
		t.Fatal("Retire returned with a request in flight")
	case <-time.After(50 * time.Millisecond):
	}
	if c.isClosed() {
		t.Fatal("component closed under a request in flight")
	}
	if rt.acquire() {
		// A request may still begin while others run; it is counted.
		rt.release()
	}
	rt.release()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Retire did not return after the last request")
	}
	if !c.isClosed() {
		t.Error("component not closed after Retire")
	}
	if rt.acquire() {
		t.Error("a request began on a closed runtime")
	}
}

// Past the drain, Retire closes anyway, and no new request begins.
func TestRetireForced(t *testing.T) {
	c := &fakeComponent{}
	rt := retiring(c)
	rt.acquire()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	rt.Retire(ctx)
	if !c.isClosed() {
		t.Error("component not closed after a forced Retire")
	}
	if rt.acquire() {
		t.Error("a request began after a forced Retire")
	}
	rt.release() // the straggler ends without effect
}

// Concurrent requests and a retirement: every request that began was
// counted, and none began after the close.
func TestRetireRace(t *testing.T) {
	c := &fakeComponent{}
	rt := retiring(c)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if !rt.acquire() {
					return
				}
				if c.isClosed() {
					t.Error("request running on a closed runtime")
				}
				rt.release()
			}
		})
	}
	rt.Retire(context.Background())
	wg.Wait()
}
