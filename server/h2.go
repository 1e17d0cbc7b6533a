package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"

	"golang.org/x/net/http2"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/server/h2guard"
)

// h2engine serves HTTP/2 (over TLS after ALPN "h2", or h2c with prior
// knowledge) on the connections the socket layer hands it, with
// golang.org/x/net/http2's server, one ServeConn per connection. It
// tracks the connections itself, so that shutdown sends GOAWAY, lets
// streams finish and then closes what is left.
type h2engine struct {
	srv   *http2.Server
	base  *http.Server // settings the streams follow; never serves
	h     http.Handler
	guard *h2guard.Policy // ends connections that reset streams faster than any real client

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newH2(lc *config.Listener, h http.Handler, log *slog.Logger) *h2engine {
	base := &http.Server{
		ReadTimeout:    lc.ReadTimeout.D(),
		WriteTimeout:   lc.WriteTimeout.D(),
		IdleTimeout:    lc.IdleTimeout.D(),
		MaxHeaderBytes: headerLimit(lc.MaxHeaderBytes),
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		// 16 KiB, the RFC default, instead of 1 MiB: bounds the buffer
		// one client frame can make the server allocate, as nginx.
		HTTP2: &http.HTTP2Config{MaxReadFrameSize: 16 << 10},
	}
	name := lc.Name
	srv := &http2.Server{
		MaxReadFrameSize: 16 << 10,
		IdleTimeout:      lc.IdleTimeout.D(),
		// Protocol errors a client caused, for the log: the server
		// answers them with RST_STREAM or GOAWAY, never a handler.
		CountError: func(errType string) {
			log.Debug("HTTP/2 protocol error from a client", "listener", name, "error", errType)
		},
	}
	// ConfigureServer links srv to base, so that base.Shutdown sends
	// GOAWAY on every connection srv serves.
	if err := http2.ConfigureServer(base, srv); err != nil {
		log.Error("HTTP/2 setup failed", "listener", name, "error", err)
	}
	guard := &h2guard.Policy{Listener: name, OnTrip: func(e h2guard.Event) {
		log.Warn("HTTP/2 connection resets streams too fast", "listener", e.Listener, "peer", e.Remote.String(),
			"opened", e.Opened, "resets", e.Resets, "last_stream", e.LastStream)
	}}
	return &h2engine{srv: srv, base: base, h: h, guard: guard, conns: map[net.Conn]struct{}{}}
}

// serve serves c until it closes, with ctx as its requests' base. It
// reports false, doing nothing, once the engine is shutting down.
func (e *h2engine) serve(ctx context.Context, c net.Conn) bool {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	e.conns[c] = struct{}{}
	e.wg.Add(1)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.conns, c)
		e.mu.Unlock()
		e.wg.Done()
	}()
	e.srv.ServeConn(yielding(e.guard.Wrap(c)), &http2.ServeConnOpts{Context: ctx, BaseConfig: e.base, Handler: grownStack{e.h}})
	return true
}

// shutdown sends GOAWAY on every connection, waits for their streams
// until ctx is done, then closes what is left. The error is ctx's when
// something had to be closed.
func (e *h2engine) shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	_ = e.base.Shutdown(ctx) // only starts the GOAWAYs: base has no connections of its own
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	for c := range e.conns {
		c.Close()
	}
	e.mu.Unlock()
	<-done
	return ctx.Err()
}

// yieldConn is a connection as x/net's server writes it: every Write
// first lets the other runnable goroutines run (runtime.Gosched). The
// server flushes its frames as soon as its queue is empty, in a goroutine
// of its own, and queues what handlers send it while a flush is under way;
// one stream's answer alone in the queue is two flushes, HEADERS and then
// DATA, each a TLS record and a write(2). Yielding first lets the handlers
// whose answers are ready queue them, so the next flush carries them all.
// With GOMAXPROCS=1 and 10 connections of 10 streams (bench/run.sh h2) the
// writes to clients went from 1.99 to 0.59 a request and the CPU per
// request down by a quarter (bench/h2-profile.md). Without other runnable
// goroutines Gosched returns at once (about 80 ns). No write waits for a
// timer, and each returns the connection's own result.
type yieldConn struct{ net.Conn }

func (c yieldConn) Write(p []byte) (int, error) {
	runtime.Gosched()
	return c.Conn.Write(p)
}

// NetConn returns the connection under c.
func (c yieldConn) NetConn() net.Conn { return c.Conn }

// connectionStater is what x/net's server looks for to learn that a
// connection is TLS.
type connectionStater interface{ ConnectionState() tls.ConnectionState }

// yieldTLSConn is a yieldConn over a connection with TLS state, which it
// exposes, as x/net's server requires of TLS connections.
type yieldTLSConn struct {
	yieldConn
	cs connectionStater
}

// ConnectionState returns the wrapped connection's TLS state.
func (c yieldTLSConn) ConnectionState() tls.ConnectionState { return c.cs.ConnectionState() }

// yielding returns c as a yieldConn, with c's TLS state if it has one.
func yielding(c net.Conn) net.Conn {
	if cs, ok := c.(connectionStater); ok {
		return yieldTLSConn{yieldConn{c}, cs}
	}
	return yieldConn{c}
}

// grownStack runs h with the stack of its goroutine grown beforehand.
// x/net's server starts a goroutine per stream with the runtime's
// starting stack, which is sized by the average goroutine (most are
// small: the server's flushes, the serve loops); a proxied request's calls
// outgrow it, and every growth copies the stack as deep as it then is,
// frame by frame (4.3-5.9 µs a request, 7-10 % of the CPU, in the h2
// profile of bench/h2-profile.md). Growing it at the handler's entry,
// three frames deep, is one shallow copy (about 1 µs), and none when the
// starting stack is large enough already.
type grownStack struct{ h http.Handler }

func (g grownStack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	growStack(r.ProtoMajor)
	g.h.ServeHTTP(w, r)
}

// stackReserve is the frame of growStack: with the frames under it, it
// makes the stack 8 KiB, which a request proxied through the default
// middleware fits in (with it, the profile shows no growth but this one).
// A handler that needs more grows its stack as before.
const stackReserve = 5 << 10

// growStack has a frame of stackReserve bytes, so that calling it grows
// the stack at once. The array is used so that the compiler keeps it.
//
//go:noinline
func growStack(i int) byte {
	var pad [stackReserve]byte
	pad[i%stackReserve] = byte(i)
	return pad[(i*7)%stackReserve]
}

var (
	_ net.Conn         = yieldConn{}
	_ connectionStater = yieldTLSConn{}
	_ http.Handler     = grownStack{}
)
