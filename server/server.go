// Package server owns the listening sockets and the http.Servers on them,
// serves every request with the current runtime, and applies new configs
// without dropping connections: sockets whose address is unchanged stay
// open, and a failed reload leaves everything as it was.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/gateway"
	"github.com/gatehouse-proxy/gatehouse/middleware"
)

// Server serves the current runtime on the configured listeners. Safe for
// concurrent use; Apply and Shutdown are serialized.
type Server struct {
	env *gateway.Env
	rt  atomic.Pointer[gateway.Runtime]

	mu        sync.Mutex
	listeners map[string]*listener // by configured address
	httpsPort atomic.Pointer[string]
	// retired fronts were replaced or removed by a reload; they take no
	// new connections but may still be serving open ones.
	retired  map[*front]struct{}
	draining sync.WaitGroup // goroutines retiring servers
	stop     chan struct{}  // closed by Shutdown
	closed   bool
}

// listener is one socket and the front currently serving it, and for
// HTTP/3 a UDP socket with its server.
type listener struct {
	plan  *plan
	sock  *socket
	front *front
	h3    *h3 // nil without HTTP/3
}

// New returns a Server with no listeners; call Apply.
func New(env *gateway.Env) *Server {
	return &Server{
		env:       env,
		listeners: make(map[string]*listener),
		retired:   make(map[*front]struct{}),
		stop:      make(chan struct{}),
	}
}

// ServeHTTP serves r with the runtime current when it arrived.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		rt := s.rt.Load()
		if rt.TryServeHTTP(w, r) {
			return
		}
		if s.rt.Load() == rt {
			// The current runtime closed: only at the end of a shutdown,
			// when no new request should have been taken.
			w.Header().Set("Connection", "close")
			http.Error(w, funnel.Text(funnel.ErrUnavailable), http.StatusServiceUnavailable)
			return
		}
		// rt was replaced and closed after this request loaded it: serve
		// it with the runtime that replaced it.
	}
}

// Runtime returns the runtime in use.
func (s *Server) Runtime() *gateway.Runtime { return s.rt.Load() }

// Addr returns the bound address of the listener configured as address
// (useful when it was ":0"), or nil.
func (s *Server) Addr(address string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.listeners[address]; ok {
		return l.sock.ln.Addr()
	}
	return nil
}

// Apply compiles cfg and switches to it. On error nothing changes: the
// previous runtime and listeners keep serving. Listeners at an unchanged
// address keep their socket; changed settings move the socket to a new
// http.Server while the old one drains.
func (s *Server) Apply(cfg *config.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is shut down")
	}
	plans, err := s.prepare(cfg.Listeners)
	if err != nil {
		return err
	}
	rt, err := gateway.Compile(cfg, s.env)
	if err != nil {
		return err
	}
	opened, err := s.openNew(cfg.Listeners)
	if err != nil {
		rt.Retire(context.Background()) // never served: closes at once
		return err
	}
	if err := rt.Start(); err != nil {
		s.env.Log.Error("starting the new configuration's background work failed", "error", err)
	}
	drain := cfg.Limits.DrainTimeout.D()
	if old := s.rt.Swap(rt); old != nil {
		s.retireRuntime(old, drain)
	}
	s.reconcile(cfg.Listeners, plans, opened, drain)
	s.env.Log.Info("configuration applied", "file", cfg.File(), "listeners", len(cfg.Listeners),
		"routes", len(cfg.Routes), "upstreams", len(cfg.Upstreams))
	for _, w := range cfg.Warnings() {
		s.env.Log.Warn("configuration warning", "warning", w.Error())
	}
	return nil
}

// opened holds the sockets a reload binds before it commits.
type opened struct {
	tcp map[string]*socket
	h3  map[string]*h3
}

func (o *opened) close() {
	for _, sk := range o.tcp {
		sk.ln.Close()
	}
	for _, h := range o.h3 {
		h.udp.Close()
	}
}

// openNew binds the addresses not yet listened on, and UDP for listeners
// that newly serve HTTP/3. On failure it closes what it opened, so a bad
// reload leaves no stray sockets.
func (s *Server) openNew(ls []config.Listener) (*opened, error) {
	o := &opened{tcp: map[string]*socket{}, h3: map[string]*h3{}}
	for _, lc := range ls {
		l, ok := s.listeners[lc.Address]
		var addr net.Addr
		if ok {
			addr = l.sock.ln.Addr()
		} else {
			ln, err := net.Listen("tcp", lc.Address)
			if err != nil {
				o.close()
				return nil, fmt.Errorf("listener %q: %w", lc.Name, err)
			}
			o.tcp[lc.Address] = newSocket(ln)
			addr = ln.Addr()
		}
		if lc.HTTP3 && lc.TLS != nil && (!ok || l.h3 == nil) {
			h, err := listenH3(addr)
			if err != nil {
				o.close()
				return nil, listenerError(lc, err)
			}
			o.h3[lc.Address] = h
		}
	}
	return o, nil
}

func listenerError(lc config.Listener, err error) error {
	return fmt.Errorf("listener %q: %w", lc.Name, err)
}

// reconcile starts servers on new sockets, replaces servers whose settings
// changed, and retires listeners no longer configured.
func (s *Server) reconcile(ls []config.Listener, plans map[string]*plan, o *opened, drain time.Duration) {
	keep := make(map[string]bool, len(ls))
	for _, lc := range ls {
		keep[lc.Address] = true
		p := plans[lc.Address]
		if sk, ok := o.tcp[lc.Address]; ok {
			l := &listener{plan: p, sock: sk}
			s.listeners[lc.Address] = l
			l.front = s.serve(l, o.h3[lc.Address])
			go sk.acceptLoop(s.env.Log)
			s.env.Log.Info("listening", "listener", lc.Name, "address", sk.ln.Addr().String(),
				"tls", lc.TLS != nil, "http3", l.h3 != nil)
			continue
		}
		l := s.listeners[lc.Address]
		if l.plan.same(p) {
			continue
		}
		old := l.front
		if l.h3 != nil && !lc.HTTP3 {
			l.h3.close()
			l.h3 = nil
		}
		authChanged := !l.plan.sameClientAuth(p)
		l.plan = p
		l.front = s.serve(l, o.h3[lc.Address])
		s.retire(old, drain, true)
		if l.h3 != nil && authChanged {
			l.h3.retireConns(drain)
		}
	}
	for addr, l := range s.listeners {
		if keep[addr] {
			continue
		}
		delete(s.listeners, addr)
		l.sock.close()
		if l.h3 != nil {
			l.h3.close()
		}
		s.retire(l.front, drain, false)
		s.env.Log.Info("stopped listening", "listener", l.plan.cfg.Name, "address", addr)
	}
	s.setHTTPSPort(ls)
}

// serve starts a front with l's settings on its socket and makes it the
// one receiving new connections; with HTTP/3 it updates (or, given a new
// UDP socket, starts) the HTTP/3 server too.
func (s *Server) serve(l *listener, newH3 *h3) *front {
	p, lc := l.plan, l.plan.cfg
	scope := &middleware.Scope{Listener: &lc}
	if lc.HTTP3 && p.tls != nil {
		scope.HTTP3Port = l.sock.ln.Addr().(*net.TCPAddr).Port
	}
	// The Connection-stage rows read only the listener's settings,
	// which prepare has compiled, so they cannot fail here.
	h, _ := middleware.Chain(middleware.Connection, scope, s)
	connCtx := s.connContext(p)
	f := &front{plan: p, log: s.env.Log, connCtx: connCtx, refused: s.refused(lc.Name)}
	f.h1feed = newFeed(l.sock.ln.Addr())
	h1 := newEngine(&lc, h, s.env.Log, func(ctx context.Context, _ *conn) context.Context { return connCtx(ctx) })
	f.h1 = h1
	go h1.Serve(f.h1feed)
	if speaksH2(lc) {
		f.h2 = newH2(&lc, h, s.env.Log)
	}
	if old := l.sock.front.Swap(f); old != nil {
		old.h1feed.close()
	}
	if newH3 != nil {
		l.h3 = newH3
	}
	if l.h3 != nil {
		l.h3.update(p, h, connCtx)
		if newH3 != nil {
			if err := newH3.start(lc); err != nil {
				// Only a broken UDP socket gets here; TCP keeps serving.
				s.env.Log.Error("HTTP/3 not served", "listener", lc.Name, "error", err)
				newH3.udp.Close()
				l.h3 = nil
			}
		}
	}
	return f
}

// speaksH2 reports whether a listener serves HTTP/2 over TCP: by ALPN on
// TLS listeners with http2 on, with prior knowledge on plain ones with h2c.
func speaksH2(lc config.Listener) bool {
	if lc.TLS != nil {
		return lc.TLS.HTTP2
	}
	return lc.H2C
}

// refused returns the report of a listener's refused requests: logged
// through the current runtime's funnel and access log.
func (s *Server) refused(listener string) func(*conn, funnel.Refusal) {
	return func(c *conn, r funnel.Refusal) {
		r.Listener = listener
		r.Peer = c.RemoteAddr().String()
		if rt := s.rt.Load(); rt != nil {
			rt.Refused(r)
		}
	}
}

// headerLimit converts max_header_bytes to http.Server's setting, which
// net/http exceeds by 4096 bytes of buffer slack.
func headerLimit(n config.Size) int {
	return max(int(n)-4096, 1)
}

// retire takes f out of service; the caller holds s.mu and has already
// stopped feeding it connections. When its listener was removed, f shuts
// down now: idle connections close, active ones finish within drain. When
// only the listener's settings changed (keepConns), f goes on serving the
// connections it has, with the current runtime, until they end on their
// own or drain passes: closing an idle keep-alive connection races with a
// request the client may be sending on it, which a client can only retry
// when it is idempotent.
func (s *Server) retire(f *front, drain time.Duration, keepConns bool) {
	s.retired[f] = struct{}{}
	s.draining.Add(1)
	go func() {
		defer s.draining.Done()
		if keepConns {
			t := time.NewTimer(drain)
			defer t.Stop()
			select {
			case <-t.C:
			case <-s.stop:
				return // Shutdown takes it over
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		if err := f.shutdown(ctx); err != nil {
			f.closeNow()
		}
		s.mu.Lock()
		delete(s.retired, f)
		s.mu.Unlock()
	}()
}

// retireRuntime retires rt in the background, giving its requests drain
// to finish; Shutdown waits for it.
func (s *Server) retireRuntime(rt *gateway.Runtime, drain time.Duration) {
	s.draining.Add(1)
	go func() {
		defer s.draining.Done()
		ctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		rt.Retire(ctx)
	}()
}

// Shutdown stops accepting, lets in-flight requests and upgraded
// connections finish until ctx is done, then closes whatever remains. The
// error is ctx's when something had to be closed unfinished.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	var fronts []*front
	var h3s []*h3
	for _, l := range s.listeners {
		l.sock.close()
		fronts = append(fronts, l.front)
		if l.h3 != nil {
			h3s = append(h3s, l.h3)
		}
	}
	for f := range s.retired {
		fronts = append(fronts, f)
	}
	s.listeners = map[string]*listener{}
	s.mu.Unlock()

	var wg sync.WaitGroup
	var timedOut atomic.Bool
	for _, f := range fronts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.shutdown(ctx); err != nil {
				timedOut.Store(true)
				f.closeNow()
			}
		}()
	}
	for _, h := range h3s {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.shutdown(ctx)
		}()
	}
	wg.Wait()
	err := s.env.Upgrades.Wait(ctx)
	if err != nil {
		s.env.Upgrades.CloseAll()
	} else if timedOut.Load() {
		// Requests were cut off, not only upgraded connections: the
		// caller must hear of it too.
		err = ctx.Err()
	}
	// Retired servers and runtimes end now that every connection did.
	s.draining.Wait()
	if rt := s.rt.Load(); rt != nil {
		rt.Retire(ctx)
	}
	s.env.TLS.Close()
	s.env.CloseCaches()
	return err
}

var _ http.Handler = (*Server)(nil)
