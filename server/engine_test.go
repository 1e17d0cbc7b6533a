package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/server/enginetest"
)

// TestH1EngineContracts runs the engine suite against both HTTP/1.1
// engines as the server runs them: built by newEngine from a loaded
// listener config, fed *conn values by the socket's accept loop and front.handle,
// on a plain listener and on one that also peeks for the h2c preface.
func TestH1EngineContracts(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{config.EngineGatehouse, config.EngineStdlib} {
		for _, extra := range []string{"", "h2c: true"} {
			name := engine + "/plain"
			if extra != "" {
				name = engine + "/h2c"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				lc := loadListener(t, fmt.Sprintf("max_header_bytes: %d, engine: %s, %s", enginetest.HeaderLimit, engine, extra))
				enginetest.Run(t, func(t *testing.T, h http.Handler) string {
					return serveFront(t, lc, h).addr
				})
			})
		}
	}
}

// loadListener loads a config with one loopback listener whose YAML
// mapping also holds settings, and returns that listener with every
// default filled in as config.Load fills it.
func loadListener(t *testing.T, settings string) config.Listener {
	t.Helper()
	if settings != "" {
		settings = ", " + settings
	}
	yaml := fmt.Sprintf("listeners: [{address: \"127.0.0.1:0\"%s}]\nroutes: [{respond: {body: unused}}]\n", settings)
	cfg, err := config.Load([]byte(yaml), "test.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yaml)
	}
	return cfg.Listeners[0]
}

// served is a front on a loopback socket, as Server.serve starts one.
type served struct {
	addr  string
	front *front
	// refusals holds what the front reported as refused, in order.
	mu       sync.Mutex
	refusals []funnel.Refusal
}

// Refusals returns the refusals reported so far.
func (s *served) Refusals() []funnel.Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]funnel.Refusal(nil), s.refusals...)
}

// serveFront serves h on a new loopback socket with lc's settings the way
// Server.serve does: the socket's accept loop hands connections to
// front.handle, which feeds plaintext *conn values to the engine newH1
// builds (and h2c connections to the HTTP/2 engine). lc must be a plain
// listener. Everything stops at cleanup.
func serveFront(t *testing.T, lc config.Listener, h http.Handler) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	s := &served{addr: ln.Addr().String()}
	f := &front{plan: &plan{cfg: lc}, log: log, connCtx: func(ctx context.Context) context.Context { return ctx },
		refused: func(c *conn, r funnel.Refusal) {
			r.Peer = c.RemoteAddr().String()
			s.mu.Lock()
			s.refusals = append(s.refusals, r)
			s.mu.Unlock()
		}}
	f.h1feed = newFeed(ln.Addr())
	h1 := newEngine(&lc, h, log, func(ctx context.Context, _ *conn) context.Context { return ctx })
	f.h1 = h1
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		h1.Serve(f.h1feed)
	}()
	if speaksH2(lc) {
		f.h2 = newH2(&lc, h, log)
	}
	s.front = f
	sk := newSocket(ln)
	sk.front.Store(f)
	go sk.acceptLoop(log)
	t.Cleanup(func() {
		sk.close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := f.shutdown(ctx); err != nil {
			f.closeNow()
		}
		<-stopped
	})
	return s
}
