package store

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
)

// flaky is a primary that fails while down is set, counting its calls.
type flaky struct {
	down  atomic.Bool
	calls atomic.Int64
}

func (f *flaky) Take(context.Context, Bucket, gcra.Limit, int64) (gcra.Result, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return gcra.Result{}, errors.New("connection refused")
	}
	return gcra.Result{Allowed: true, Remaining: 42}, nil
}

func TestGuarded(t *testing.T) {
	for _, deny := range []bool{false, true} {
		p := &flaky{}
		var clock atomic.Int64
		clock.Store(1_700_000_000 * sec)
		now := func() time.Time { return time.Unix(0, clock.Load()) }
		g := &Guarded{Primary: p, Local: NewMemory(100, now), Deny: deny, Now: now}
		l := gcra.Per(2, time.Hour, 2)
		take := func() (gcra.Result, error) { return g.Take(context.Background(), Bucket{"p", "k"}, l, 1) }
		if r, err := take(); err != nil || r.Remaining != 42 {
			t.Fatalf("deny=%v, primary up: %+v %v", deny, r, err)
		}
		p.down.Store(true)
		r, err := take()
		switch {
		case deny && !errors.Is(err, ErrUnavailable):
			t.Errorf("deny: primary down gave %+v %v, want ErrUnavailable", r, err)
		case !deny && (err != nil || !r.Allowed || r.Remaining != 1):
			t.Errorf("allow: primary down gave %+v %v, want the local memory's decision", r, err)
		}
		for range 10 {
			take()
		}
		if c := p.calls.Load(); c != 2 {
			t.Errorf("deny=%v: the primary was asked %d times during the backoff, want 2 (before and at the failure)", deny, c)
		}
		if !deny {
			if r, _ := take(); r.Allowed {
				t.Error("allow: the local memory does not limit during the outage")
			}
		}
		clock.Add(int64(minBackoff))
		take() // the probe, still failing: the backoff doubles
		clock.Add(int64(minBackoff))
		take()
		if c := p.calls.Load(); c != 3 {
			t.Errorf("deny=%v: %d calls after one probe, want 3 (the backoff doubled)", deny, c)
		}
		p.down.Store(false)
		clock.Add(int64(minBackoff))
		if r, err := take(); err != nil || r.Remaining != 42 {
			t.Errorf("deny=%v: after recovery %+v %v, want the primary's decision", deny, r, err)
		}
		if g.Fallbacks.Load() == 0 {
			t.Error("no fallbacks counted")
		}
	}
}

// A client that goes away is not an outage of the primary.
func TestGuardedClientGone(t *testing.T) {
	p := &flaky{}
	p.down.Store(true)
	g := &Guarded{Primary: p, Local: NewMemory(100, nil)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Take(ctx, Bucket{"p", "k"}, gcra.Per(1, time.Second, 1), 1); err == nil {
		t.Error("a cancelled decision succeeded")
	}
	if _, ok := g.usePrimary(); !ok {
		t.Error("a cancelled decision marked the primary down")
	}
}

// A probe whose client leaves does not stop the probing: the next
// decision probes instead (it once left Primary unused for good).
func TestGuardedAbandonedProbe(t *testing.T) {
	p := &flaky{}
	var clock atomic.Int64
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	g := &Guarded{Primary: p, Local: NewMemory(100, now), Deny: true, Now: now}
	l := gcra.Per(10, time.Second, 10)
	p.down.Store(true)
	g.Take(context.Background(), Bucket{"p", "k"}, l, 1) // the outage starts
	clock.Add(int64(minBackoff))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.Take(ctx, Bucket{"p", "k"}, l, 1) // the probe, its client gone
	p.down.Store(false)
	if _, err := g.Take(context.Background(), Bucket{"p", "k"}, l, 1); err != nil {
		t.Errorf("after an abandoned probe, with the primary back: %v; want its decision", err)
	}
}

// gated is a primary whose decisions wait at a gate, then fail (or
// succeed) together: a stall with many decisions in flight.
type gated struct {
	gate  chan struct{}
	fail  atomic.Bool
	calls atomic.Int64
}

func (p *gated) Take(context.Context, Bucket, gcra.Limit, int64) (gcra.Result, error) {
	p.calls.Add(1)
	<-p.gate
	if p.fail.Load() {
		return gcra.Result{}, errors.New("i/o timeout")
	}
	return gcra.Result{Allowed: true, Remaining: 7}, nil
}

// TestGuardedStall: 50 decisions in flight when Primary stalls fail
// together; that is one outage of the first backoff, not 50 doublings
// (a 300 ms Redis pause under load once refused for 30 s), and late
// successes of decisions begun before it do not end it either: only
// the probe does.
func TestGuardedStall(t *testing.T) {
	for _, late := range []string{"fail", "succeed"} {
		var clock atomic.Int64
		now := func() time.Time { return time.Unix(0, clock.Load()) }
		p := &gated{gate: make(chan struct{})}
		p.fail.Store(true)
		g := &Guarded{Primary: p, Local: NewMemory(100, now), Deny: true, Now: now}
		l := gcra.Per(1000, time.Second, 1000)
		const inFlight = 50
		done := make(chan struct{})
		for range inFlight {
			go func() {
				g.Take(context.Background(), Bucket{"p", "k"}, l, 1)
				done <- struct{}{}
			}()
		}
		for p.calls.Load() < inFlight {
			time.Sleep(time.Millisecond)
		}
		// One fails first and starts the outage; the rest fail, or
		// succeed, late.
		close(p.gate)
		<-done
		if late == "succeed" {
			p.fail.Store(false)
		}
		for range inFlight - 1 {
			<-done
		}
		if p.fail.Load() {
			// All failed: the outage is the first backoff's.
		} else if _, ok := g.usePrimary(); ok {
			t.Errorf("late successes of decisions begun before the outage ended it")
			continue
		}
		g.mu.Lock()
		backoff := g.backoff
		g.mu.Unlock()
		if backoff != minBackoff {
			t.Errorf("late %s: backoff %v after one stall, want %v", late, backoff, minBackoff)
		}
		p.fail.Store(false)
		clock.Add(int64(minBackoff))
		if r, err := g.Take(context.Background(), Bucket{"p", "k"}, l, 1); err != nil || r.Remaining != 7 {
			t.Errorf("late %s: the probe after the first backoff: %+v %v, want the primary's answer", late, r, err)
		}
	}
}
