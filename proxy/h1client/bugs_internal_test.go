package h1client

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/upstream"
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

// TestRegressionStoppedUploadIsNoTimeout: when the response head fails
// while the request body is still going out (a gRPC server, which speaks
// only HTTP/2, resets the connection after reading the HTTP/1.1 head),
// bodyFirst aborts the connection, which puts its deadlines in the past,
// and waits for the sender. A write the sender makes after that abort
// fails with an i/o timeout, which writeBody reported as the target
// taking no body bytes for send_timeout; bodyFirst prefers a timed-out
// upload to the head's error, so the reset answered 504 Gateway Timeout
// within milliseconds instead of 502. About one gRPC call in ten to an
// http:// target did so. The abort is the exchange's own: the upload it
// stops is no timeout, and the head's failure is the error.
//
// The test makes the interleaving certain: the body's first read returns
// only once the abort has happened.
func TestRegressionStoppedUploadIsNoTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var served sync.WaitGroup
	served.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		br := bufio.NewReader(c)
		for line, err := br.ReadString('\n'); err == nil && line != "\r\n"; line, err = br.ReadString('\n') {
		}
		c.(*net.TCPConn).SetLinger(0) // a reset, as a server refusing the protocol sends
		c.Close()
	})
	defer served.Wait()

	var closed atomic.Bool
	o := proxy.TransportOptions{DialTimeout: 5 * time.Second, ResponseHeaderTimeout: 10 * time.Second,
		SendTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}
	p := newHostPool(ln.Addr().String(), &o, &closed)
	raw, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &abortNotingConn{Conn: raw, aborted: make(chan struct{})}
	pc := newPconn(p, c)
	defer pc.close()

	out, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/grpc.testing.TestService/UnaryCall",
		&afterAbortBody{aborted: c.aborted, data: "\x00\x00\x00\x00\x00"})
	if err != nil {
		t.Fatal(err)
	}
	out.ContentLength = -1 // chunked, as a gRPC request arrives
	ex := exchange{call: call{f: New(o, nil), w: httptest.NewRecorder(), out: out,
		t: &upstream.Target{Name: "http://" + p.addr, Addr: p.addr}}, pc: pc}
	ex.watch()
	_, err = ex.roundTrip()
	ex.unwatch()
	select {
	case <-c.aborted:
	default:
		t.Fatalf("the connection was never aborted (err %v): the test did not make its interleaving", err)
	}
	if err == nil {
		t.Fatal("the exchange succeeded against a target that reset the connection")
	}
	err = ex.classify(out.Context(), err)
	if got := funnel.Status(err); got != http.StatusBadGateway {
		t.Errorf("status %d for %v, want 502: the target reset the connection, nothing timed out", got, err)
	}
	if isTimeout(err) {
		t.Errorf("%v reads as a timeout", err)
	}
}

// abortNotingConn closes aborted when a deadline in the past is set: the
// pconn's abort.
type abortNotingConn struct {
	net.Conn
	once    sync.Once
	aborted chan struct{}
}

func (c *abortNotingConn) SetDeadline(t time.Time) error {
	err := c.Conn.SetDeadline(t)
	if t.Equal(aLongTimeAgo) {
		c.once.Do(func() { close(c.aborted) })
	}
	return err
}

// afterAbortBody is a request body whose bytes arrive only after the
// connection was aborted.
type afterAbortBody struct {
	aborted <-chan struct{}
	data    string
	done    bool
}

func (b *afterAbortBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	select {
	case <-b.aborted:
	case <-time.After(5 * time.Second):
	}
	b.done = true
	return copy(p, b.data), nil
}
