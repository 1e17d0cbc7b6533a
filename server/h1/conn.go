package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A connection's states, for Shutdown: only an idle connection may be
// closed under a client, and only before it takes a request's first
// byte.
const (
	stateActive int32 = iota
	stateIdle
	stateClosed
)

// conn is one client connection and the loop serving its requests.
type conn struct {
	srv   *Server
	nc    net.Conn        // as the listener gave it (for the hooks)
	io    net.Conn        // what is read and written: nc, unwrapped
	raw   syscall.RawConn // for reading while idle with no buffer; nil on TLS
	tls   *tls.ConnectionState
	state atomic.Int32
	peer  string

	// rb is the read buffer, rb.b[r:w] what was read and not consumed;
	// nil while the connection is idle.
	rb   *readBuf
	r, w int
	// rerr is the error that ended reading (io.EOF when the client
	// half-closed), kept for the request being served.
	rerr error
	// tryRead, rn and rerrno are readIfReady and what it read.
	tryRead func(fd uintptr) bool
	rn      int
	rerrno  error
	one     [1]byte // the TLS idle read's
	// bufs is the writev vector, kept to write without allocating.
	bufs    net.Buffers
	bufsArr [3][]byte
	// rdl is the read deadline in effect (idle, head, read_timeout, or
	// the handler's); zero when none.
	rdl time.Time

	// watch is the background read that notices a client leaving
	// while a handler works; nil when none runs.
	watchMu sync.Mutex
	watch   chan struct{} // closed when the background read ends
	ctx     *reqCtx       // the request being served
	body    *body         // its body; nil when it has none
	hijack  bool
}

// readBuf is a pooled read buffer and the field slots of a parsed head.
type readBuf struct {
	b    []byte
	head head
}

// smallBuf is the read buffer's size: a typical request's head, and its
// body when small. A head that needs more grows it up to MaxHeaderBytes.
const smallBuf = 4 << 10

var readBufs sync.Pool

func (c *conn) getBuf() {
	if c.rb != nil {
		return
	}
	rb, _ := readBufs.Get().(*readBuf)
	if rb == nil {
		rb = &readBuf{b: make([]byte, smallBuf)}
	}
	if cap(rb.head.fields) < c.srv.maxHeaderCount() {
		rb.head.fields = make([]field, 0, c.srv.maxHeaderCount())
	}
	rb.head.fields = rb.head.fields[:0:c.srv.maxHeaderCount()]
	c.rb, c.r, c.w = rb, 0, 0
}

// putBuf gives the read buffer back when nothing in it is pending.
func (c *conn) putBuf() {
	if c.rb == nil || c.r < c.w {
		return
	}
	if len(c.rb.b) == smallBuf {
		readBufs.Put(c.rb)
	}
	c.rb, c.r, c.w = nil, 0, 0
}

// unwrapper is a connection wrapper that lets the engine do its I/O on
// the connection it wraps (for writev and splice, which need the real
// socket), keeping the wrapper for the hooks.
type unwrapper interface{ Unwrap() net.Conn }

// rawConnOf returns the socket of a plain TCP connection, for the idle
// wait that reads only when bytes are there.
func rawConnOf(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// serve runs the connection until it closes, is hijacked, or the server
// closes it.
func (c *conn) serve(ctx context.Context) {
	defer c.end()
	c.peer = c.nc.RemoteAddr().String()
	s := c.srv
	for first := true; ; first = false {
		wait := s.idleTimeout()
		if first {
			wait = s.readHeaderTimeout()
		}
		if c.r == c.w && !c.idle(wait) {
			return
		}
		// The head's wait is bounded by read_header_timeout from here,
		// set by readHead only if the head is not all in already.
		if !c.serveOne(ctx) {
			return
		}
		if s.shutting.Load() {
			return
		}
	}
}

// idle waits up to d for the next request's first bytes with no read
// buffer held (a pooled one is taken when they come). It reports false
// when the connection should end: the client left, the wait timed out,
// or the server is shutting down.
func (c *conn) idle(d time.Duration) bool {
	c.putBuf()
	if !c.state.CompareAndSwap(stateActive, stateIdle) || c.srv.shutting.Load() {
		return false
	}
	want := time.Now().Add(d)
	c.keepReadDeadline(want, d)
	for {
		ok, err := c.waitFirstBytes()
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return false // Shutdown closed it
		}
		if ok {
			return true
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(want) {
			return false
		}
		// A deadline kept from before expired early: wait the rest.
		c.setReadDeadline(want)
		if !c.state.CompareAndSwap(stateActive, stateIdle) {
			return false
		}
	}
}

// keepReadDeadline arranges for reads to time out at want: a deadline
// already set a little earlier (within a slack of an eighth of d, at
// most a second) is kept, and idle re-arms want when it fires. So a
// busy keep-alive connection changes its deadline about once a second,
// not once a request (each change is a runtime timer update).
func (c *conn) keepReadDeadline(want time.Time, d time.Duration) {
	slack := min(d/8, time.Second)
	if c.rdl.IsZero() || c.rdl.After(want) || want.Sub(c.rdl) > slack {
		c.setReadDeadline(want)
	}
}

// setReadDeadline sets the engine's read deadline (zero clears it).
func (c *conn) setReadDeadline(t time.Time) {
	c.rdl = t
	c.io.SetReadDeadline(t)
}

// waitFirstBytes reads a request's first bytes into a buffer taken from
// the pool only once they are there. On a plain TCP connection the read
// is tried in the poller's callback, and a read that would block gives
// the buffer back before waiting; on TLS a one-byte read waits for a
// record.
func (c *conn) waitFirstBytes() (bool, error) {
	if c.raw != nil {
		if c.tryRead == nil {
			c.tryRead = c.readIfReady // one closure for the connection's life
		}
		c.rn, c.rerrno = 0, nil
		err := c.raw.Read(c.tryRead)
		n, rerr := c.rn, c.rerrno
		if err != nil || rerr != nil || n <= 0 {
			c.putBufForce()
			if err == nil {
				err = io.EOF
			}
			return false, err
		}
		c.r, c.w = 0, n
		return true, nil
	}
	n, err := c.io.Read(c.one[:])
	if n == 0 {
		if err == nil {
			err = io.EOF
		}
		return false, err
	}
	c.getBuf()
	c.rb.b[0] = c.one[0]
	c.w = 1
	return true, nil
}

// readIfReady is the poller's callback of waitFirstBytes: a read into a
// pooled buffer, which goes back to the pool when the read would block.
func (c *conn) readIfReady(fd uintptr) bool {
	c.getBuf()
	for {
		c.rn, c.rerrno = syscall.Read(int(fd), c.rb.b)
		if c.rerrno != syscall.EINTR {
			break
		}
	}
	if c.rerrno == syscall.EAGAIN {
		c.putBuf() // wait with no buffer
		return false
	}
	return true
}

// closeIfIdle closes the connection if it waits for a request (Shutdown).
func (c *conn) closeIfIdle() {
	if c.state.CompareAndSwap(stateIdle, stateClosed) {
		c.io.Close()
	}
}

// end closes the connection unless a handler took it over.
func (c *conn) end() {
	if !c.hijack {
		c.io.Close()
		c.putBufForce()
	}
	c.srv.forget(c)
}

func (c *conn) putBufForce() {
	if c.rb != nil {
		c.r = c.w
		c.putBuf()
	}
}

// fill reads more of the connection into the buffer, moving pending
// bytes to its start (or into a larger buffer, up to limit) first when
// it is full.
func (c *conn) fill(limit int) error {
	if c.w == len(c.rb.b) {
		if c.r > 0 {
			n := copy(c.rb.b, c.rb.b[c.r:c.w])
			c.r, c.w = 0, n
		} else {
			if len(c.rb.b) >= limit {
				return errTooLarge
			}
			nb := &readBuf{b: make([]byte, min(max(2*len(c.rb.b), smallBuf), limit)), head: c.rb.head}
			copy(nb.b, c.rb.b[c.r:c.w])
			c.w -= c.r
			c.r = 0
			if len(c.rb.b) == smallBuf {
				c.rb.head = head{}
				readBufs.Put(c.rb)
			}
			c.rb = nb
		}
	}
	n, err := c.io.Read(c.rb.b[c.w:])
	c.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readHead reads until a whole head is buffered at c.r; it returns the
// head's size.
func (c *conn) readHead() (int, error) {
	limit := c.srv.maxHeaderBytes()
	line := 0
	timed := false
	for {
		size, resume, perr := scanHead(c.rb.b[c.r:c.w], line)
		if perr != nil {
			return 0, perr
		}
		if size > 0 {
			if size > limit {
				return 0, errTooLarge
			}
			return size, nil
		}
		line = resume
		if c.w-c.r > limit {
			return 0, errTooLarge
		}
		if !timed {
			// Only a head that did not come whole with its first
			// bytes is timed (slowloris); most never need it.
			c.setReadDeadline(time.Now().Add(c.srv.readHeaderTimeout()))
			timed = true
		}
		// The head's bytes may move to a new buffer's start: line is
		// relative to c.r, so it stays right.
		if err := c.fill(limit + 2); err != nil {
			return 0, err
		}
	}
}

// serveOne reads a request and serves it; false ends the connection.
func (c *conn) serveOne(ctx context.Context) bool {
	size, err := c.readHead()
	if err != nil {
		c.readFailed(err)
		return false
	}
	h := &c.rb.head
	b := c.rb.b[c.r : c.r+size]
	if perr := parseHead(b, size, h); perr != nil {
		c.refuse(perr)
		return false
	}
	var m message
	var tmpl http.Request
	// One allocation for what lives as long as the request.
	ex := new(exchange)
	if perr := newRequest(b, h, &tmpl, &m, &ex.mem); perr != nil {
		c.refuse(perr)
		return false
	}
	c.r += size
	if m.length == 0 {
		// The request's strings are copies: with nothing more pending,
		// the buffer goes back to the pool while the handler works, as
		// it does while the connection is idle (a watch for the
		// client's leaving takes one again).
		c.putBuf()
	}
	return c.handle(ctx, ex, &tmpl, &m)
}

// readFailed ends a connection whose head could not be read: a parse
// error or an oversized head is answered; a client that left or was too
// slow is logged if it had begun a request.
func (c *conn) readFailed(err error) {
	var perr *parseError
	if errors.As(err, &perr) {
		c.refuse(perr)
		return
	}
	if c.w > c.r { // part of a head had come
		why := "the connection ended before a whole request arrived (the client hung up)"
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// Unanswered, as nginx and net/http do: a client this slow
			// is more likely an attack than one that would read it.
			why = "read_header_timeout passed before a whole request arrived"
		}
		c.report(http.StatusRequestTimeout, why, false)
	}
}

// refuse answers a refused head and ends the connection: what follows
// the head cannot be trusted to start a request.
func (c *conn) refuse(perr *parseError) {
	c.report(perr.status, perr.why, true)
	c.answerAndClose(perr.status)
}

func (c *conn) report(status int, why string, answered bool) {
	if c.srv.Refused != nil {
		c.srv.Refused(c.nc, status, why, answered)
	}
}

// answerAndClose writes a fixed answer, half-closes and lingers briefly
// for the client to read it: closing with unread bytes would reset the
// connection, and the client could lose the answer.
func (c *conn) answerAndClose(status int) {
	var ans []byte
	if c.srv.Answer != nil {
		ans = c.srv.Answer(status)
	} else {
		ans = plainAnswer(status)
	}
	c.io.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := c.io.Write(ans); err != nil {
		return
	}
	c.linger()
}

// linger half-closes and discards what the client still sends, for up to
// half a second, before the connection is closed.
func (c *conn) linger() {
	if cw, ok := c.io.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.io.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var scratch [512]byte
	for {
		if _, err := c.io.Read(scratch[:]); err != nil {
			return
		}
	}
}

func plainAnswer(status int) []byte {
	text := http.StatusText(status)
	return []byte("HTTP/1.1 " + itoa(status) + " " + text + "\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: " + itoa(len(text)+1) + "\r\nConnection: close\r\n\r\n" + text + "\n")
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// watchClient starts the background read that notices the client going
// away while the handler works, once the request's body (if any) has
// been read whole: the read then can only see the client leave, or the
// first bytes of a pipelined request, which it keeps.
func (c *conn) watchClient() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.watch != nil || c.hijack || c.ctx == nil || (c.body != nil && !c.body.done()) {
		return
	}
	if c.r < c.w {
		return // a pipelined request is there: the client has not left
	}
	if c.rb == nil {
		c.getBuf()
	}
	if c.w == len(c.rb.b) {
		c.r, c.w = 0, 0
	}
	done := make(chan struct{})
	c.watch = done
	x := c.ctx
	// An idle or head deadline left over must not end the watch; c.rdl
	// is the conn goroutine's to keep, and unwatch brings it up to date.
	c.io.SetReadDeadline(time.Time{})
	go func() {
		defer close(done)
		n, err := c.io.Read(c.rb.b[c.w:])
		c.w += n
		if n == 0 && err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			c.rerr = err
			x.cancel(context.Canceled)
		}
	}()
}

// unwatch ends the background read, if one runs, and waits for it.
func (c *conn) unwatch() {
	c.watchMu.Lock()
	done := c.watch
	c.watchMu.Unlock()
	if done == nil {
		return
	}
	c.io.SetReadDeadline(aLongTimeAgo)
	<-done
	c.setReadDeadline(time.Time{})
	c.watchMu.Lock()
	c.watch = nil
	c.watchMu.Unlock()
}

var aLongTimeAgo = time.Unix(1, 0)

// exchange is what lives as long as one request, allocated at once.
type exchange struct {
	ctx  reqCtx
	w    response
	body body
	mem  reqMem
}

// handle serves one parsed request: its context, body and response,
// the handler, then the end of the answer. It reports whether the
// connection goes on to a next request.
func (c *conn) handle(ctx context.Context, ex *exchange, tmpl *http.Request, m *message) bool {
	s := c.srv
	switch {
	case s.ReadTimeout > 0:
		c.setReadDeadline(time.Now().Add(s.ReadTimeout))
	case !c.rdl.IsZero() && m.length != 0:
		// The idle or head deadline must not cut a body short; with
		// no body, only the watch reads, and it clears it itself.
		c.setReadDeadline(time.Time{})
	}
	if s.WriteTimeout > 0 {
		c.io.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
	}
	ex.ctx = reqCtx{Context: ctx, c: c}
	x := &ex.ctx
	r := tmpl.WithContext(x)
	r.RemoteAddr = c.peer
	r.TLS = c.tls
	w := &ex.w
	*w = response{c: c, req: r, reqClose: m.close, header: make(http.Header), declared: -1}
	c.body = nil
	if m.length != 0 {
		b := &ex.body
		*b = body{c: c, w: w, req: r, left: m.length, chunked: m.chunked, cont: m.cont}
		if m.chunked {
			b.left = 0
		}
		r.Body = b
		c.body = b
	} else {
		r.Body = http.NoBody
	}
	c.watchMu.Lock()
	c.ctx = x
	c.watchMu.Unlock()
	if !c.run(w, r) {
		return false
	}
	c.unwatch()
	c.watchMu.Lock()
	c.ctx = nil
	c.watchMu.Unlock()
	x.cancel(context.Canceled)
	if w.hijacked {
		return false
	}
	w.finish()
	w.release()
	if c.body != nil && !c.body.done() {
		w.closeAfter = true // the rest of the body would be read as a request
	}
	if w.err != nil || w.closeAfter || m.close || c.rerr != nil {
		if c.body != nil && !c.body.done() && w.err == nil {
			c.linger()
		}
		return false
	}
	if s.WriteTimeout > 0 {
		c.io.SetWriteDeadline(time.Time{})
	}
	return true
}

// run calls the handler. A panic ends the connection without the rest
// of the answer (http.ErrAbortHandler quietly, anything else logged), so
// that a client never takes a cut answer for a whole one.
func (c *conn) run(w *response, r *http.Request) (ok bool) {
	defer func() {
		if ok {
			return
		}
		p := recover()
		c.unwatch()
		if c.ctx != nil {
			c.ctx.cancel(context.Canceled)
		}
		if p != nil && p != http.ErrAbortHandler && c.srv.ErrorLog != nil {
			c.srv.ErrorLog.Error("panic serving a request", "peer", c.peer, "panic", p)
		}
		if w.hijacked {
			return
		}
		w.release()
	}()
	h := c.srv.Handler
	switch {
	case r.RequestURI == "*":
		h = http.HandlerFunc(serverOptions) // only OPTIONS gets here
	case h == nil:
		h = http.NotFoundHandler()
	}
	h.ServeHTTP(w, r)
	return true
}

// serverOptions answers "OPTIONS *", a question about the server rather
// than any resource, as net/http does: 200 with no body. A body is left
// unread, which closes the connection.
func serverOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
