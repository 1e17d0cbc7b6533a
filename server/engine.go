package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/server/h1"
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

// newOwnH1 returns Gatehouse's own engine (server/h1) for a listener,
// with the same settings, contexts and refusal reports as newH1's.
func newOwnH1(lc *config.Listener, h http.Handler, log *slog.Logger, connCtx func(context.Context, *conn) context.Context) *h1.Server {
	return &h1.Server{
		Handler:           h,
		ReadHeaderTimeout: lc.ReadHeaderTimeout.D(),
		ReadTimeout:       lc.ReadTimeout.D(),
		WriteTimeout:      lc.WriteTimeout.D(),
		IdleTimeout:       lc.IdleTimeout.D(),
		MaxHeaderBytes:    int(lc.MaxHeaderBytes),
		MaxHeaderCount:    lc.MaxHeaderCount,
		ErrorLog:          log,
		ConnContext: func(ctx context.Context, nc net.Conn) context.Context {
			c, ok := nc.(*conn)
			if !ok {
				return ctx
			}
			return connCtx(context.WithValue(ctx, connKey{}, c), c)
		},
		ConnTLS: func(nc net.Conn) *tls.ConnectionState {
			if c, ok := nc.(*conn); ok {
				return c.tls
			}
			return nil
		},
		Refused: func(nc net.Conn, status int, why string, answered bool) {
			if c, ok := nc.(*conn); ok && c.refused != nil {
				c.refused(c, funnel.Refusal{Status: status, Reason: "refused by the HTTP/1.1 parser: " + why,
					Answered: answered, Proto: "HTTP/1.1"})
			}
		},
		Answer: func(status int) []byte { return funnel.RawHTTP1(funnel.ForRefusal(status)) },
	}
}

// newEngine returns the HTTP/1.1 engine lc asks for.
func newEngine(lc *config.Listener, h http.Handler, log *slog.Logger, connCtx func(context.Context, *conn) context.Context) H1Engine {
	if lc.Engine == config.EngineStdlib {
		return newH1(lc, h, log, connCtx)
	}
	return newOwnH1(lc, h, log, connCtx)
}

var (
	_ H1Engine = (*http.Server)(nil)
	_ H1Engine = (*h1.Server)(nil)
)
