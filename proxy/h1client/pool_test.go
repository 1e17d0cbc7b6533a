package h1client_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/proxy"
)

// TestConnectionReused: sequential requests share one connection. (With
// a request body they do not always: see TestBugPostConnectionNotReused.)
func TestConnectionReused(t *testing.T) {
	b := newBackend(t, answer(okResp))
	f := newForwarder(t, testOpts())
	for i := range 20 {
		var out *http.Request
		switch i % 3 {
		case 0:
			out = newOut("GET", fmt.Sprintf("/%d", i), nil, 0)
		case 1:
			out = newOut("DELETE", "/d", nil, 0)
		default:
			out = newOut("HEAD", "/h", nil, 0)
		}
		_, res, _, err := forward(f, b, out)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := b.accepts.Load(); got != 1 {
		t.Errorf("%d connections for 20 sequential requests, want 1", got)
	}
}

// TestPoolPerTarget: each target address has its own connections.
func TestPoolPerTarget(t *testing.T) {
	b1 := newBackend(t, answer(okResp))
	b2 := newBackend(t, answer(okResp))
	f := newForwarder(t, testOpts())
	for range 3 {
		mustGet(t, f, b1, "/")
		mustGet(t, f, b2, "/")
	}
	if b1.accepts.Load() != 1 || b2.accepts.Load() != 1 {
		t.Errorf("accepts %d and %d, want 1 each", b1.accepts.Load(), b2.accepts.Load())
	}
}

// holdBackend holds each request until the test releases it (a send on
// release frees one, closing it frees all), then answers okResp; arrived
// hears of each request as it comes.
type holdBackend struct {
	*backend
	arrived chan struct{}
	release chan struct{}
}

func newHoldBackend(t *testing.T) *holdBackend {
	h := &holdBackend{arrived: make(chan struct{}, 100), release: make(chan struct{})}
	h.backend = newBackend(t, func(c *bconn) {
		for {
			if _, err := c.read(); err != nil {
				if errors.Is(err, io.EOF) {
					c.b.peerClosed <- c.n
				}
				return
			}
			h.arrived <- struct{}{}
			select {
			case <-h.release:
			case <-time.After(10 * time.Second):
				return
			}
			if c.write(okResp) != nil {
				return
			}
		}
	})
	return h
}

func (h *holdBackend) waitArrived(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-h.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d requests arrived", i, n)
		}
	}
}

// TestMaxIdleConns: at most MaxIdleConns connections stay idle; 0 keeps
// none.
func TestMaxIdleConns(t *testing.T) {
	for _, keep := range []int{0, 1, 2} {
		t.Run(fmt.Sprint(keep), func(t *testing.T) {
			h := newHoldBackend(t)
			o := testOpts()
			o.MaxIdleConns = keep
			f := newForwarder(t, o)
			const n = 3
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Go(func() {
					_, _, _, err := forward(f, h.backend, newOut("GET", "/", nil, 0))
					errs <- err
				})
			}
			h.waitArrived(t, n)
			close(h.release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for i := range n - keep {
				select {
				case <-h.peerClosed:
				case <-time.After(5 * time.Second):
					t.Fatalf("%d of %d surplus connections closed", i, n-keep)
				}
			}
			// The idle ones serve the next requests.
			for range n {
				mustGet(t, f, h.backend, "/")
			}
			want := n + n
			if keep > 0 {
				want = n
			}
			if got := int(h.accepts.Load()); got != want {
				t.Errorf("%d connections, want %d", got, want)
			}
		})
	}
}

// TestIdleConnTimeout: a connection idle past IdleConnTimeout is closed
// (the target sees it), and the next request dials anew.
func TestIdleConnTimeout(t *testing.T) {
	b := newBackend(t, answer(okResp))
	o := testOpts()
	o.IdleConnTimeout = 100 * time.Millisecond
	f := newForwarder(t, o)
	mustGet(t, f, b, "/")
	b.waitPeerClosed(t, 1)
	mustGet(t, f, b, "/")
	if got := b.accepts.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
	b.waitPeerClosed(t, 2) // the sweep comes back for later ones
}

// TestIdleConnTimeoutKeepsYoungConns: the sweep closes only the
// connections idle past the timeout, not one used again meanwhile.
func TestIdleConnTimeoutKeepsYoungConns(t *testing.T) {
	b := newBackend(t, answer(okResp))
	o := testOpts()
	o.IdleConnTimeout = 500 * time.Millisecond
	f := newForwarder(t, o)
	for range 12 { // past two sweeps
		mustGet(t, f, b, "/")
		time.Sleep(100 * time.Millisecond)
	}
	if got := b.accepts.Load(); got != 1 {
		t.Errorf("%d connections, want 1 reused while never idle for the timeout", got)
	}
}

// TestCloseClosesIdle: Close closes the idle connections; a request
// still in flight finishes, and its connection is closed after.
func TestCloseClosesIdle(t *testing.T) {
	h := newHoldBackend(t)
	f := newForwarder(t, testOpts())
	done := make(chan error, 2)
	for range 2 {
		go func() { _, _, _, err := forward(f, h.backend, newOut("GET", "/", nil, 0)); done <- err }()
	}
	h.waitArrived(t, 2)
	h.release <- struct{}{} // one answered, its connection idle
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.Close()
	select {
	case <-h.peerClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left the idle connection open")
	}
	close(h.release)
	if err := <-done; err != nil {
		t.Fatalf("the request in flight during Close: %v", err)
	}
	select {
	case <-h.peerClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection in use during Close was kept after its request")
	}
}

// TestMaxConns: no more than MaxConns connections exist at once; the
// requests past it wait and get a connection handed back.
func TestMaxConns(t *testing.T) {
	var inflight, peak atomic.Int32
	b := newBackend(t, func(c *bconn) {
		for {
			if _, err := c.read(); err != nil {
				return
			}
			n := inflight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(30 * time.Millisecond)
			inflight.Add(-1)
			if c.write(okResp) != nil {
				return
			}
		}
	})
	o := testOpts()
	o.MaxConns = 2
	f := newForwarder(t, o)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			_, res, _, err := forward(f, b, newOut("GET", "/", nil, 0))
			if err == nil && res.StatusCode != 200 {
				err = fmt.Errorf("status %d", res.StatusCode)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p := b.peak.Load(); p != 2 {
		t.Errorf("peak of %d connections open, want the limit of 2", p)
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak of %d requests at the target, want 2", p)
	}
	if a := b.accepts.Load(); a != 2 {
		t.Errorf("%d connections made, want 2 (the waiters get them handed back)", a)
	}
}

// TestMaxConnsWithoutIdle: with MaxIdleConns 0 a waiter gets the slot a
// closed connection frees.
func TestMaxConnsWithoutIdle(t *testing.T) {
	h := newHoldBackend(t)
	o := testOpts()
	o.MaxConns, o.MaxIdleConns = 1, 0
	f := newForwarder(t, o)
	done := make(chan error, 3)
	for range 3 {
		go func() { _, _, _, err := forward(f, h.backend, newOut("GET", "/", nil, 0)); done <- err }()
	}
	for range 3 {
		h.waitArrived(t, 1)
		time.Sleep(50 * time.Millisecond)
		if n := len(h.arrived); n > 0 {
			t.Fatalf("%d more requests reached the target while one held the only connection", n)
		}
		h.release <- struct{}{}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if a := h.accepts.Load(); a != 3 {
		t.Errorf("%d connections, want 3 (none kept idle)", a)
	}
}

// TestConnLimitWait: a request that finds no free connection within the
// dial timeout fails with ErrConnLimit (503), in the connect phase.
func TestConnLimitWait(t *testing.T) {
	h := newHoldBackend(t)
	o := testOpts()
	o.MaxConns, o.DialTimeout = 1, 200*time.Millisecond
	f := newForwarder(t, o)
	first := make(chan error, 1)
	go func() { _, _, _, err := forward(f, h.backend, newOut("GET", "/", nil, 0)); first <- err }()
	h.waitArrived(t, 1)

	start := time.Now()
	rec, _, _, err := forward(f, h.backend, newOut("GET", "/", nil, 0))
	waited := time.Since(start)
	if !errors.Is(err, proxy.ErrConnLimit) {
		t.Fatalf("error %v, want ErrConnLimit", err)
	}
	if s := funnel.Status(err); s != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", s)
	}
	if pe := proxyError(t, err); pe.Phase != proxy.PhaseConnect || pe.ClientGone {
		t.Errorf("phase %v, ClientGone %v; want connect, false", pe.Phase, pe.ClientGone)
	}
	if rec.wrote {
		t.Error("the header was written")
	}
	if waited < 150*time.Millisecond {
		t.Errorf("failed after %v, before the dial timeout", waited)
	}
	close(h.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	mustGet(t, f, h.backend, "/") // the slot is free again
	if a := h.accepts.Load(); a != 1 {
		t.Errorf("%d connections, want 1", a)
	}
}

// TestConnLimitWaitClientGone: a client that leaves while waiting for a
// connection slot ends the wait at once.
func TestConnLimitWaitClientGone(t *testing.T) {
	h := newHoldBackend(t)
	o := testOpts()
	o.MaxConns = 1
	f := newForwarder(t, o)
	first := make(chan error, 1)
	go func() { _, _, _, err := forward(f, h.backend, newOut("GET", "/", nil, 0)); first <- err }()
	h.waitArrived(t, 1)
	out, cancel := canceled(newOut("GET", "/", nil, 0))
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, _, _, err := forward(f, h.backend, out)
	if pe := proxyError(t, err); !pe.ClientGone || pe.Phase != proxy.PhaseConnect {
		t.Errorf("error %v: ClientGone %v phase %v, want true, connect", err, pe.ClientGone, pe.Phase)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the wait outlasted the client by %v", d)
	}
	close(h.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
