package h1client

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/proxy"
)

// TestRegressionHandOffLostWhenWaiterTimesOut: put (pool.go) hands a
// connection to the first waiter under max_conns by popping it under the
// lock but sending on its channel after unlocking. A waiter whose wait
// ends (timer, slot, client gone) in between finds its channel empty,
// returns without the connection, and the send then lands in a channel
// nobody reads: the connection is never closed and its slot never
// released. Each such loss lowers the pool's limit by one for good; with
// max_conns 1 every later request fails with ErrConnLimit (503). Sending
// while still holding the lock (the channel is buffered) closes the gap.
//
// The test makes the interleaving certain with GOMAXPROCS 1 and the
// mutex's starvation mode, in which Unlock hands the lock to the next
// waiter and yields: put's Unlock runs the timed-out waiter before put's
// send.
func TestRegressionHandOffLostWhenWaiterTimesOut(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var closed atomic.Bool
	o := proxy.TransportOptions{MaxConns: 1, MaxIdleConns: 1, DialTimeout: 30 * time.Millisecond}
	p := newHostPool("target.test:80", &o, &closed)
	p.slots <- struct{}{} // the one connection allowed exists and is in use
	c1, c2 := net.Pipe()
	defer c2.Close()
	pc := newPconn(p, c1)
	defer c1.Close()

	type result struct {
		pc  *pconn
		err error
	}
	waited := make(chan result, 1)
	go func() {
		got, err := p.acquire(context.Background(), false)
		waited <- result{got, err}
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		p.mu.Lock()
		n := len(p.waiters)
		p.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never waited for a connection")
		}
		runtime.Gosched()
	}

	p.mu.Lock()
	putDone := make(chan struct{})
	go func() { p.put(pc); close(putDone) }() // queues on the lock first
	time.Sleep(100 * time.Millisecond)        // the waiter's timer fires; it queues second
	p.mu.Unlock()                             // wakes put...
	p.mu.Lock()                               // ...which finds the lock taken again and starves
	time.Sleep(5 * time.Millisecond)
	p.mu.Unlock() // hands over to put, whose Unlock hands over to the waiter

	r := <-waited
	<-putDone
	p.mu.Lock()
	idle := len(p.idle)
	p.mu.Unlock()
	if r.pc != pc && idle == 0 {
		t.Errorf("the connection put back was lost: the waiter got %v (%v) and the pool holds none idle", r.pc, r.err)
		if _, err := p.acquire(context.Background(), false); errors.Is(err, proxy.ErrConnLimit) {
			t.Errorf("and its slot is gone: with no connection in use, a new request gets %v", err)
		}
	}
	if r.pc != nil {
		r.pc.close()
	}
}
