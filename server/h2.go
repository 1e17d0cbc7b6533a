package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
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
	e.srv.ServeConn(e.guard.Wrap(c), &http2.ServeConnOpts{Context: ctx, BaseConfig: e.base, Handler: e.h})
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
