package h1client

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gatehouse-proxy/gatehouse/proxy"
)

// hostPool is the keep-alive connections to one target: idle ones in a
// stack (the most recently used is reused first, so the others age out),
// and an optional limit on how many exist at once.
type hostPool struct {
	addr   string
	opts   *proxy.TransportOptions
	closed *atomic.Bool // the forwarder's
	dialer net.Dialer

	// slots holds one token per connection allowed (max_conns); nil
	// means no limit.
	slots chan struct{}

	mu    sync.Mutex
	idle  []*pconn
	sweep *time.Timer // closes connections idle past the idle timeout
	// waiters wait for a connection under max_conns: put hands its
	// connection to the first instead of keeping it idle.
	waiters []chan *pconn
}

func newHostPool(addr string, o *proxy.TransportOptions, closed *atomic.Bool) *hostPool {
	p := &hostPool{addr: addr, opts: o, closed: closed,
		dialer: net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}}
	if o.MaxConns > 0 {
		p.slots = make(chan struct{}, o.MaxConns)
	}
	return p
}

// peekAfter is how long a connection must have been idle before reuse
// checks that the target has not closed it; a connection back in the
// pool for less is taken as it is (a failure is still retried).
const peekAfter = 50 * time.Millisecond

// get returns an idle connection (reused true) or a new one. fresh skips
// the idle ones. The wait for a free slot under max_conns is bounded by
// the dial timeout (proxy.ErrConnLimit). now is the time the caller took
// before; get moves it on when it waited or dialed.
func (p *hostPool) get(ctx context.Context, fresh bool, now *time.Time) (pc *pconn, reused bool, err error) {
	if !fresh {
		for pc = p.popIdle(); pc != nil; pc = p.popIdle() {
			if now.Sub(pc.idleSince) < peekAfter || pc.alive() {
				return pc, true, nil
			}
			pc.close()
		}
	}
	pc, err = p.acquire(ctx, fresh)
	if pc != nil {
		*now = time.Now() // handed over, maybe after a wait
		return pc, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	c, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	*now = time.Now()
	if err != nil {
		p.release()
		return nil, false, err
	}
	return newPconn(p, c), false, nil
}

// acquire takes a connection slot (returning nil, nil) or, when all are
// taken, waits up to the dial timeout for a slot or (unless fresh) for a
// connection another request hands back.
func (p *hostPool) acquire(ctx context.Context, fresh bool) (*pconn, error) {
	if p.slots == nil {
		return nil, nil
	}
	select {
	case p.slots <- struct{}{}:
		return nil, nil
	default:
	}
	var ch chan *pconn // nil when fresh: never receives
	if !fresh {
		ch = make(chan *pconn, 1)
		p.mu.Lock()
		if pc := p.popIdleLocked(); pc != nil {
			p.mu.Unlock()
			return pc, nil
		}
		p.waiters = append(p.waiters, ch)
		p.mu.Unlock()
	}
	t := time.NewTimer(p.opts.DialTimeout)
	defer t.Stop()
	var err error
	select {
	case pc := <-ch:
		return pc, nil
	case p.slots <- struct{}{}:
	case <-t.C:
		err = proxy.ErrConnLimit
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.mu.Lock()
	for i, w := range p.waiters {
		if w == ch {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	select {
	case pc := <-ch: // handed over just as the wait ended
		if err == nil {
			p.release() // the slot taken is not needed
		}
		return pc, nil
	default:
	}
	return nil, err
}

func (p *hostPool) release() {
	if p.slots != nil {
		<-p.slots
	}
}

func (p *hostPool) popIdle() *pconn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.popIdleLocked()
}

func (p *hostPool) popIdleLocked() *pconn {
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	pc := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	return pc
}

// put returns pc to the pool, handing it to a request waiting under
// max_conns first; it closes pc when the pool is full or closed.
func (p *hostPool) put(pc *pconn) {
	// The deadlines stay as they are: the liveness peek ignores them,
	// and the next exchange sets what it needs (deadline.go).
	if cap(pc.scratch) > 64<<10 {
		pc.scratch = nil // a rare huge head does not stay pinned
	}
	pc.idleSince = time.Now()
	p.mu.Lock()
	if len(p.waiters) > 0 && p.opts.MaxIdleConns > 0 { // max_idle_conns 0: no connection is ever reused
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- pc // buffered, never blocks; sent under the lock, so the waiter cannot give up in between
		p.mu.Unlock()
		return
	}
	if p.closed.Load() || p.opts.MaxIdleConns <= 0 || len(p.idle) >= p.opts.MaxIdleConns {
		p.mu.Unlock()
		pc.close()
		return
	}
	p.idle = append(p.idle, pc)
	if d := p.opts.IdleConnTimeout; d > 0 {
		if p.sweep == nil {
			p.sweep = time.AfterFunc(d, p.sweepIdle)
		}
	}
	p.mu.Unlock()
}

// sweepIdle closes the connections idle past the idle timeout, and comes
// back for the others while any remain.
func (p *hostPool) sweepIdle() {
	d := p.opts.IdleConnTimeout
	now := time.Now()
	p.mu.Lock()
	var old []*pconn
	keep := p.idle[:0]
	for _, pc := range p.idle {
		if now.Sub(pc.idleSince) >= d {
			old = append(old, pc)
		} else {
			keep = append(keep, pc)
		}
	}
	clear(p.idle[len(keep):])
	p.idle = keep
	if len(p.idle) > 0 {
		p.sweep.Reset(d - now.Sub(p.idle[0].idleSince))
	} else {
		p.sweep = nil
	}
	p.mu.Unlock()
	for _, pc := range old {
		pc.close()
	}
}

func (p *hostPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	if p.sweep != nil {
		p.sweep.Stop()
		p.sweep = nil
	}
	p.mu.Unlock()
	for _, pc := range idle {
		pc.close()
	}
}

// pconn is one connection to a target with its buffers, reused request
// after request.
type pconn struct {
	pool      *hostPool
	c         net.Conn
	raw       syscall.RawConn // for the liveness peek; nil if unavailable
	br        *bufio.Reader
	idleSince time.Time

	// scratch holds a response head while it is parsed; fields index it.
	scratch []byte
	fields  []field
	body    bodyReader
	ex      exchange // the one in progress; zero while idle
	wire    wire     // what br reads from
	dl      deadlines
	abort   func() // ends blocked reads and writes (the client went away)
	aborted atomic.Bool
	peekFn  func(fd uintptr)
	peekOK  bool
	closed  bool
}

const bufSize = 4 << 10

func newPconn(p *hostPool, c net.Conn) *pconn {
	pc := &pconn{pool: p, c: c}
	pc.wire.pc = pc
	pc.br = bufio.NewReaderSize(&pc.wire, bufSize)
	if sc, ok := c.(syscall.Conn); ok {
		pc.raw, _ = sc.SyscallConn()
	}
	pc.abort = func() {
		pc.aborted.Store(true)
		pc.c.SetDeadline(aLongTimeAgo)
	}
	pc.peekFn = pc.peek
	pc.body.pc = pc
	return pc
}

// setReadDeadline sets the read deadline, unless abort has ended the
// connection's I/O: a deadline set just after the abort must not undo it.
// (abort marks before it sets; the check after setting closes the race.)
func (pc *pconn) setReadDeadline(t time.Time) {
	pc.c.SetReadDeadline(t)
	if pc.aborted.Load() {
		pc.c.SetReadDeadline(aLongTimeAgo)
	}
}

// setWriteDeadline is setReadDeadline for writes.
func (pc *pconn) setWriteDeadline(t time.Time) {
	pc.c.SetWriteDeadline(t)
	if pc.aborted.Load() {
		pc.c.SetWriteDeadline(aLongTimeAgo)
	}
}

// aLongTimeAgo is a deadline in the past, which ends blocked I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// alive reports whether the target has neither closed the connection nor
// sent anything unasked while it was idle: one non-blocking peek, which
// (through Control, not Read) no expired read deadline fails.
func (pc *pconn) alive() bool {
	if pc.br.Buffered() > 0 {
		return false // bytes nobody asked for
	}
	if pc.raw == nil {
		return true
	}
	pc.peekOK = false
	if err := pc.raw.Control(pc.peekFn); err != nil {
		return false
	}
	return pc.peekOK
}

func (pc *pconn) peek(fd uintptr) {
	var b [1]byte
	n, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	// Nothing to read (EAGAIN) is the healthy answer; 0 bytes is EOF.
	pc.peekOK = errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK
	_ = n
}

// close closes the connection and frees its slot.
func (pc *pconn) close() {
	if pc.closed {
		return
	}
	pc.closed = true
	pc.c.Close()
	pc.pool.release()
}
