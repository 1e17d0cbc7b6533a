package server

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// socket owns one listening socket and hands accepted connections to the
// current front. Swapping the front lets new settings take over the
// socket while the old front drains, without ever closing the socket (no
// refused connections during a reload).
type socket struct {
	ln    net.Listener
	front atomic.Pointer[front]
	done  chan struct{}
}

func newSocket(ln net.Listener) *socket {
	s := &socket{ln: ln, done: make(chan struct{})}
	return s
}

// acceptLoop runs until the socket is closed. Other accept errors (out of
// file descriptors, say) are retried with a growing pause, as net/http does.
func (s *socket) acceptLoop(log *slog.Logger) {
	defer close(s.done)
	var pause time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			log.Warn("accept failed; retrying", "address", s.ln.Addr().String(), "error", err, "pause", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		f := s.front.Load()
		if f == nil {
			c.Close()
			continue
		}
		// Each connection shakes hands on its own goroutine, so that a
		// slow client never holds up the accept loop.
		go f.handle(c, s.front.Load)
	}
}

// close stops accepting and waits for the accept loop to end.
func (s *socket) close() {
	s.ln.Close()
	<-s.done
}

// feed is the net.Listener an HTTP/1.1 engine serves from. Closing it
// ends that engine's Serve without touching the socket.
type feed struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newFeed(addr net.Addr) *feed {
	return &feed{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (f *feed) Accept() (net.Conn, error) {
	select {
	case c := <-f.ch:
		return c, nil
	case <-f.closed:
		return nil, net.ErrClosed
	}
}

// push hands c to the engine; false once the feed is closed.
func (f *feed) push(c net.Conn) bool {
	select {
	case f.ch <- c:
		return true
	case <-f.closed:
		return false
	}
}

func (f *feed) close() { f.once.Do(func() { close(f.closed) }) }

func (f *feed) Close() error   { f.close(); return nil }
func (f *feed) Addr() net.Addr { return f.addr }

var _ net.Listener = (*feed)(nil)
