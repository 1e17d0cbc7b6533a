// Package server owns the listening sockets and the http.Servers on them,
// serves every request with the current runtime, and applies new configs
// without dropping connections: sockets whose address is unchanged stay
// open, and a failed reload leaves everything as it was.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/middleware/deadline"
	"github.com/gatehouse-proxy/gatehouse/runtime"
)

// Server serves the current runtime on the configured listeners. Safe for
// concurrent use; Apply and Shutdown are serialized.
type Server struct {
	env *runtime.Env
	rt  atomic.Pointer[runtime.Runtime]

	mu        sync.Mutex
	listeners map[string]*listener // by configured address
	// retired servers were replaced or removed by a reload; they take no
	// new connections but may still be serving open ones.
	retired  map[*http.Server]struct{}
	draining sync.WaitGroup // goroutines retiring servers
	stop     chan struct{}  // closed by Shutdown
	closed   bool
}

// listener is one socket and the http.Server currently serving it.
type listener struct {
	cfg  config.Listener
	sock *socket
	srv  *http.Server
}

// New returns a Server with no listeners; call Apply.
func New(env *runtime.Env) *Server {
	return &Server{
		env:       env,
		listeners: make(map[string]*listener),
		retired:   make(map[*http.Server]struct{}),
		stop:      make(chan struct{}),
	}
}

// ServeHTTP serves r with the runtime current when it arrived.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.rt.Load().ServeHTTP(w, r)
}

// Runtime returns the runtime in use.
func (s *Server) Runtime() *runtime.Runtime { return s.rt.Load() }

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
	rt, err := runtime.Compile(cfg, s.env)
	if err != nil {
		return err
	}
	opened, err := s.openNew(cfg.Listeners)
	if err != nil {
		rt.Stop(0)
		return err
	}
	rt.Start()
	drain := cfg.Limits.DrainTimeout.D()
	if old := s.rt.Swap(rt); old != nil {
		old.Stop(drain)
	}
	s.reconcile(cfg.Listeners, opened, drain)
	s.env.Log.Info("configuration applied", "file", cfg.File(), "listeners", len(cfg.Listeners),
		"routes", len(cfg.Routes), "upstreams", len(cfg.Upstreams))
	return nil
}

// openNew binds the addresses not yet listened on. On failure it closes
// what it opened, so a bad reload leaves no stray sockets.
func (s *Server) openNew(ls []config.Listener) (map[string]*socket, error) {
	opened := make(map[string]*socket)
	for _, lc := range ls {
		if _, ok := s.listeners[lc.Address]; ok {
			continue
		}
		ln, err := net.Listen("tcp", lc.Address)
		if err != nil {
			for _, sk := range opened {
				sk.ln.Close()
			}
			return nil, fmt.Errorf("listener %q: %w", lc.Name, err)
		}
		opened[lc.Address] = newSocket(ln)
	}
	return opened, nil
}

// reconcile starts servers on new sockets, replaces servers whose settings
// changed, and retires listeners no longer configured.
func (s *Server) reconcile(ls []config.Listener, opened map[string]*socket, drain time.Duration) {
	keep := make(map[string]bool, len(ls))
	for _, lc := range ls {
		keep[lc.Address] = true
		if sk, ok := opened[lc.Address]; ok {
			l := &listener{cfg: lc, sock: sk}
			l.srv = s.serve(sk, lc)
			go sk.acceptLoop(s.env.Log)
			s.listeners[lc.Address] = l
			s.env.Log.Info("listening", "listener", lc.Name, "address", sk.ln.Addr().String())
			continue
		}
		l := s.listeners[lc.Address]
		if l.cfg == lc {
			continue
		}
		old := l.srv
		l.cfg, l.srv = lc, s.serve(l.sock, lc)
		s.retire(old, drain, true)
	}
	for addr, l := range s.listeners {
		if keep[addr] {
			continue
		}
		delete(s.listeners, addr)
		l.sock.close()
		s.retire(l.srv, drain, false)
		s.env.Log.Info("stopped listening", "listener", l.cfg.Name, "address", addr)
	}
}

// serve starts an http.Server with lc's settings on a fresh feed of sk and
// makes it the one receiving new connections.
func (s *Server) serve(sk *socket, lc config.Listener) *http.Server {
	srv := &http.Server{
		Handler: deadline.Middleware(deadline.Limits{
			BodyIdle:   lc.ClientBodyTimeout.D(),
			SendIdle:   lc.SendTimeout.D(),
			ReadTotal:  lc.ReadTimeout.D(),
			WriteTotal: lc.WriteTimeout.D(),
		})(s),
		ReadHeaderTimeout: lc.ReadHeaderTimeout.D(),
		ReadTimeout:       lc.ReadTimeout.D(),
		WriteTimeout:      lc.WriteTimeout.D(),
		IdleTimeout:       lc.IdleTimeout.D(),
		MaxHeaderBytes:    headerLimit(lc.MaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(s.env.Log.Handler(), slog.LevelDebug),
	}
	f := newFeed(sk.ln.Addr())
	go srv.Serve(f)
	if old := sk.feed.Swap(f); old != nil {
		old.close()
	}
	return srv
}

// headerLimit converts max_header_bytes to http.Server's setting, which
// net/http exceeds by 4096 bytes of buffer slack.
func headerLimit(n config.Size) int {
	return max(int(n)-4096, 1)
}

// retire takes srv out of service; the caller holds s.mu and has already
// stopped feeding it connections. When its listener was removed, srv shuts
// down now: idle connections close, active ones finish within drain. When
// only the listener's settings changed (keepConns), srv goes on serving the
// connections it has, with the current runtime, until they end on their
// own or drain passes: closing an idle keep-alive connection races with a
// request the client may be sending on it, which a client can only retry
// when it is idempotent.
func (s *Server) retire(srv *http.Server, drain time.Duration, keepConns bool) {
	s.retired[srv] = struct{}{}
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
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		s.mu.Lock()
		delete(s.retired, srv)
		s.mu.Unlock()
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
	var srvs []*http.Server
	for _, l := range s.listeners {
		l.sock.close()
		srvs = append(srvs, l.srv)
	}
	for srv := range s.retired {
		srvs = append(srvs, srv)
	}
	s.listeners = map[string]*listener{}
	s.mu.Unlock()

	var wg sync.WaitGroup
	var timedOut atomic.Bool
	for _, srv := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				timedOut.Store(true)
				srv.Close()
			}
		}()
	}
	wg.Wait()
	s.draining.Wait()
	err := s.env.Upgrades.Wait(ctx)
	if err != nil {
		s.env.Upgrades.CloseAll()
	} else if timedOut.Load() {
		// Requests were cut off, not only upgraded connections: the
		// caller must hear of it too.
		err = ctx.Err()
	}
	if rt := s.rt.Load(); rt != nil {
		rt.Stop(0)
	}
	return err
}
