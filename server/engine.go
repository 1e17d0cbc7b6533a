package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// H1Engine serves HTTP/1.x on the connections the socket layer hands it
// through a listener: plaintext connections (*conn), after any TLS
// handshake, that negotiated http/1.1 or no protocol. HTTP/2 never
// reaches it (the socket layer sends h2 and h2c to the HTTP/2 engine).
// An engine must keep the contracts in server/enginetest; net/http's
// *http.Server is one.
type H1Engine interface {
	// Serve serves connections from l until l is closed.
	Serve(l net.Listener) error
	// Shutdown stops taking connections, lets requests in flight finish
	// until ctx is done and closes idle connections; Close closes all.
	Shutdown(ctx context.Context) error
	Close() error
}

// newH1 returns net/http's server as the HTTP/1.1 engine of a listener.
// h serves requests; onState tracks the connections' requests for the
// refusal log. Every conn's context carries it (connKey) and what
// connCtx adds.
func newH1(lc *config.Listener, h http.Handler, log *slog.Logger, connCtx func(context.Context, *conn) context.Context) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	return &http.Server{
		Handler:           h1Handler{h},
		ReadHeaderTimeout: lc.ReadHeaderTimeout.D(),
		ReadTimeout:       lc.ReadTimeout.D(),
		WriteTimeout:      lc.WriteTimeout.D(),
		IdleTimeout:       lc.IdleTimeout.D(),
		MaxHeaderBytes:    headerLimit(lc.MaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		Protocols:         &p,
		ConnContext: func(ctx context.Context, nc net.Conn) context.Context {
			c, ok := nc.(*conn)
			if !ok {
				return ctx
			}
			return connCtx(context.WithValue(ctx, connKey{}, c), c)
		},
		ConnState: func(nc net.Conn, st http.ConnState) {
			c, ok := nc.(*conn)
			if !ok {
				return
			}
			switch st {
			case http.StateActive:
				c.read.Add(1)
			case http.StateClosed:
				c.closed()
			}
		},
	}
}

// h1Handler notes that a request reached a handler (so the engine's own
// answers can be told apart) and gives it its TLS state: the engine saw
// only plaintext.
type h1Handler struct{ next http.Handler }

func (h h1Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c := connFrom(r.Context()); c != nil {
		c.handled.Add(1)
		if c.tls != nil && r.TLS == nil {
			// The request is the engine's fresh object, not yet seen by
			// anyone: filling in a field it could not know is safe.
			r.TLS = c.tls
		}
	}
	h.next.ServeHTTP(w, r)
}

var _ H1Engine = (*http.Server)(nil)
