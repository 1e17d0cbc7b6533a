package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// h3 serves HTTP/3 on the UDP port of a TLS listener. It lives as long as
// the listener's address and its http3 setting; a reload that changes the
// listener's other settings swaps the TLS config and handler in place, so
// QUIC connections are never dropped by a reload.
type h3 struct {
	udp     net.PacketConn
	tr      *quic.Transport
	ln      *quic.Listener
	srv     *http3.Server // settings and handler for each raw connection
	tls     atomic.Pointer[tls.Config]
	handler atomic.Pointer[http.Handler]
	conn    atomic.Pointer[func(context.Context) context.Context]
	// headerTimeout bounds reading a request's header block, as
	// read_header_timeout does on TCP (http3.Server sets no such limit).
	headerTimeout atomic.Int64

	accepting sync.WaitGroup // the accept loop
	serving   sync.WaitGroup // one per connection being served
	// grace ends when shutdown begins: connections stop taking requests;
	// force ends when requests in flight may no longer finish.
	grace, force         context.Context
	stopGrace, stopForce context.CancelFunc

	// conns are the open QUIC connections, so that a reload changing
	// client authentication can end the ones accepted under the old rules.
	mu    sync.Mutex
	conns map[*quic.Conn]struct{}
}

// listenH3 binds UDP on the host and bound port of a TCP listener.
func listenH3(tcp net.Addr) (*h3, error) {
	a := tcp.(*net.TCPAddr)
	udp, err := net.ListenPacket("udp", net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port)))
	if err != nil {
		return nil, fmt.Errorf("HTTP/3 needs UDP port %d too: %w", a.Port, err)
	}
	return &h3{udp: udp, conns: map[*quic.Conn]struct{}{}}, nil
}

// start serves HTTP/3 with the current TLS config and handler.
func (h *h3) start(lc config.Listener) error {
	h.srv = &http3.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The header block is in: lift its deadline, so that only the
			// listener's body and send limits apply from here.
			http.NewResponseController(w).SetReadDeadline(time.Time{})
			(*h.handler.Load()).ServeHTTP(w, r)
		}),
		MaxHeaderBytes: int(lc.MaxHeaderBytes),
		IdleTimeout:    lc.IdleTimeout.D(),
		ConnContext: func(ctx context.Context, c *quic.Conn) context.Context {
			h.track(c)
			return (*h.conn.Load())(ctx)
		},
	}
	tlsConf := http3.ConfigureTLSConfig(&tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return h.tls.Load(), nil },
	})
	h.tr = &quic.Transport{Conn: h.udp}
	ln, err := h.tr.Listen(tlsConf, &quic.Config{Allow0RTT: false})
	if err != nil {
		return err
	}
	h.ln = ln
	h.grace, h.stopGrace = context.WithCancel(context.Background())
	h.force, h.stopForce = context.WithCancel(context.Background())
	h.accepting.Add(1)
	go h.accept()
	return nil
}

// update installs a listener's current settings.
func (h *h3) update(p *plan, handler http.Handler, conn func(context.Context) context.Context) {
	h.tls.Store(p.h3tls)
	h.headerTimeout.Store(int64(p.cfg.ReadHeaderTimeout.D()))
	h.handler.Store(&handler)
	h.conn.Store(&conn)
}

// track records c until it closes.
func (h *h3) track(c *quic.Conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(c.Context(), func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	})
}

// retireConns closes the connections open now once drain has passed. A
// reload calls it when client authentication changed: those connections'
// handshakes checked certificates against rules no longer configured,
// and unlike a TCP connection, which ends with its retired http.Server, a
// QUIC connection would otherwise keep them for as long as it is used.
func (h *h3) retireConns(drain time.Duration) {
	h.mu.Lock()
	old := make([]*quic.Conn, 0, len(h.conns))
	for c := range h.conns {
		old = append(old, c)
	}
	h.mu.Unlock()
	if len(old) == 0 {
		return
	}
	time.AfterFunc(drain, func() {
		for _, c := range old {
			c.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "client authentication changed")
		}
	})
}

// shutdown stops taking connections, lets requests in flight finish until
// ctx is done (new ones are refused as H3_REQUEST_REJECTED, which clients
// may retry on a new connection), then closes what is left.
func (h *h3) shutdown(ctx context.Context) {
	if h.ln != nil {
		h.ln.Close()
		h.accepting.Wait()
		h.stopGrace()
		done := make(chan struct{})
		go func() { h.serving.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			h.stopForce()
			<-done
		}
		h.stopForce()
		h.tr.Close()
	}
	h.udp.Close()
}

// close shuts h down in the background without a drain: QUIC
// connections share the UDP socket, so draining them would keep the port
// from a listener that takes it up again. Their clients fall back to TCP.
func (h *h3) close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	go h.shutdown(ctx)
}
