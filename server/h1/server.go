// Package h1 is Gatehouse's own HTTP/1.1 server engine: the connection
// loop, the request parser and the response writer, behind the same
// http.Handler and http.ResponseWriter contracts as net/http's server
// (the contracts in server/enginetest), at a fraction of its cost per
// request and per idle connection.
//
// One goroutine serves each connection. Its read buffer comes from a pool
// and goes back while the connection waits for its next request, so an
// idle keep-alive connection holds no buffer; its write buffer is held
// only while a response is written. A request's head is parsed in place
// (no allocation per field) and its strings are cut from one copy.
//
// The parser is stricter than net/http's where leniency lets two parsers
// read one message two ways (request smuggling): differences.md lists
// every deliberate difference, and FuzzDifferential holds the parser to it. A refused request is answered by Refused's
// caller-chosen report and a fixed answer, and never reaches the handler.
package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/1.x on the connections a listener gives it. Set the
// fields before Serve; they are read-only afterwards.
type Server struct {
	// Handler serves every request; nil answers 404.
	Handler http.Handler

	// ReadHeaderTimeout bounds the wait for a request's head from its
	// first byte (and the whole head of a connection's first request);
	// 0 means 10 s, as a server on the open internet must have one.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included, from
	// the head's end; 0 means none.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response from the head's end; 0
	// means none.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long; 0
	// means ReadHeaderTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's head, request line included
	// (431 beyond); 0 means 64 KiB.
	MaxHeaderBytes int
	// MaxHeaderCount bounds the number of header fields (431 beyond);
	// 0 means 100.
	MaxHeaderCount int

	// ConnContext returns the context of c's requests, derived from
	// ctx; nil leaves ctx as it is.
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// ConnTLS returns the TLS state of c, set as each request's TLS;
	// nil means the state of a *tls.Conn, and none otherwise.
	ConnTLS func(c net.Conn) *tls.ConnectionState
	// Refused reports a request the engine refused before any handler
	// saw it: the status, why, and whether the client was answered (a
	// client that hung up mid-head is not). Nil reports nothing.
	Refused func(c net.Conn, status int, why string, answered bool)
	// ErrorLog logs a handler's panic; nil logs nothing.
	ErrorLog *slog.Logger
	// Answer returns the bytes of the whole answer to a refusal with
	// status; nil writes a plain one.
	Answer func(status int) []byte

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutting  atomic.Bool
	drained   chan struct{} // made by the first Shutdown, closed once no conn is left
	dateText  atomic.Pointer[dateText]
}

// ErrServerClosed is what Serve returns after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// Serve serves the connections l accepts until l fails or the server is
// shut down; it closes l.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	ctx := context.Background()
	var pause time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				time.Sleep(pause)
				continue
			}
			return err
		}
		pause = 0
		c := s.newConn(nc)
		if c == nil {
			nc.Close()
			continue
		}
		cctx := ctx
		if s.ConnContext != nil {
			cctx = s.ConnContext(ctx, nc)
		}
		go c.serve(cctx)
	}
}

// newConn registers a connection; nil once shutting down.
func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, io: nc}
	if u, ok := nc.(unwrapper); ok {
		c.io = u.Unwrap()
	}
	if tc, ok := nc.(*tls.Conn); ok && s.ConnTLS == nil {
		st := tc.ConnectionState()
		c.tls = &st
	} else if s.ConnTLS != nil {
		c.tls = s.ConnTLS(nc)
	}
	c.raw = rawConnOf(c.io)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return nil
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return c
}

// forget drops c from the server's connections (it ended, or was
// hijacked and is the handler's now).
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	_, ok := s.conns[c]
	delete(s.conns, c)
	if ok && len(s.conns) == 0 && s.drained != nil {
		close(s.drained) // a Shutdown waits for it; no conn is added after
	}
	s.mu.Unlock()
}

// Shutdown stops accepting, closes idle connections and lets active
// ones finish their request (then close) until ctx is done, when it
// returns ctx's error and leaves the rest to Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	if s.drained == nil { // the first Shutdown; a later one waits as well
		s.drained = make(chan struct{})
		if len(s.conns) == 0 {
			close(s.drained)
		}
	}
	drained := s.drained
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.mu.Unlock()
	// An idle connection that became active just before the sweep ends
	// after its request; sweep again now and then for the ones that go
	// idle without noticing (they check shutting before waiting).
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-drained:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			s.mu.Lock()
			for c := range s.conns {
				c.closeIfIdle()
			}
			s.mu.Unlock()
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.shutting.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) readHeaderTimeout() time.Duration {
	if s.ReadHeaderTimeout > 0 {
		return s.ReadHeaderTimeout
	}
	return 10 * time.Second
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return s.readHeaderTimeout()
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return 64 << 10
}

func (s *Server) maxHeaderCount() int {
	if s.MaxHeaderCount > 0 {
		return s.MaxHeaderCount
	}
	return 100
}
