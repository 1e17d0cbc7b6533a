package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/copybuf"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// Upgrades tracks connections that switched protocols (WebSockets). They
// outlive the HTTP server's own bookkeeping, so shutdown waits for them and
// finally closes them. It outlives reloads. Safe for concurrent use.
type Upgrades struct {
	mu    sync.Mutex
	conns map[*tunnel]struct{}
	done  chan struct{} // closed and replaced whenever the set empties
}

// NewUpgrades returns an empty tracker.
func NewUpgrades() *Upgrades {
	return &Upgrades{conns: make(map[*tunnel]struct{}), done: make(chan struct{})}
}

func (u *Upgrades) add(t *tunnel) {
	u.mu.Lock()
	u.conns[t] = struct{}{}
	u.mu.Unlock()
}

func (u *Upgrades) remove(t *tunnel) {
	u.mu.Lock()
	delete(u.conns, t)
	if len(u.conns) == 0 {
		close(u.done)
		u.done = make(chan struct{})
	}
	u.mu.Unlock()
}

// Len is the number of open upgraded connections.
func (u *Upgrades) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.conns)
}

// Wait blocks until no upgraded connection is open or ctx is done.
func (u *Upgrades) Wait(ctx context.Context) error {
	for {
		u.mu.Lock()
		n, done := len(u.conns), u.done
		u.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CloseAll closes every upgraded connection, both sides.
func (u *Upgrades) CloseAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for t := range u.conns {
		t.close()
	}
}

// tunnel is one upgraded connection: client side and target side.
type tunnel struct {
	client, target io.Closer
	once           sync.Once
	idle           *watchdog // nil when there is no idle timeout
}

func (t *tunnel) close() {
	t.once.Do(func() {
		t.client.Close()
		t.target.Close()
	})
}

// Tunnel is how a forwarder hands over a 101 Switching Protocols
// response: the target's connection (back, with any bytes already
// buffered from it) and where the tunnel is tracked.
type Tunnel struct {
	// Upgrades tracks the tunnel so shutdown can wait for it; nil means
	// untracked.
	Upgrades *Upgrades
	// IdleTimeout closes the tunnel when no byte moved either way for
	// this long; 0 means never.
	IdleTimeout time.Duration
}

// Relay relays a 101 response (status and header as the target sent
// them) to the client and then copies bytes both ways until either side
// closes or the tunnel is idle too long. It owns back from then on.
func (tc Tunnel) Relay(w http.ResponseWriter, out *http.Request, status int, header http.Header, back io.ReadWriteCloser, t *upstream.Target, edit ResponseEditor) error {
	want, got := upgradeType(out.Header), upgradeType(header)
	if want == "" || !strings.EqualFold(want, got) {
		back.Close()
		return &Error{Phase: PhaseRequest, Target: t.Name,
			Err: fmt.Errorf("target switched protocols to %q, but the client asked for %q", got, want)}
	}
	h := w.Header()
	CopyResponseHeader(h, header)
	h["Connection"] = []string{"Upgrade"}
	h["Upgrade"] = []string{got}
	if edit != nil {
		edit.EditResponse(status, h)
	}
	wrap.Finalize(w, status)
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		back.Close()
		return &Error{Phase: PhaseRequest, Target: t.Name, Err: fmt.Errorf("cannot take over the client connection for %s: %w", got, err)}
	}
	tun := &tunnel{client: conn, target: back}
	reqinfo.From(out.Context()).Upgraded = true
	if tc.Upgrades != nil {
		tc.Upgrades.add(tun)
		defer tc.Upgrades.remove(tun)
	}
	defer tun.close()
	if err := writeSwitching(brw, h); err != nil {
		return &Error{Phase: PhaseResponse, Target: t.Name, Err: err, ClientGone: true}
	}
	return tc.relay(tun, conn, brw.Reader, back)
}

func writeSwitching(brw *bufio.ReadWriter, h http.Header) error {
	if _, err := brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n"); err != nil {
		return err
	}
	if err := h.Write(brw); err != nil {
		return err
	}
	if _, err := brw.WriteString("\r\n"); err != nil {
		return err
	}
	return brw.Flush()
}

// relay copies both ways; the first side to finish ends the tunnel.
func (tc Tunnel) relay(tun *tunnel, conn net.Conn, fromClient io.Reader, back io.ReadWriter) error {
	if d := tc.IdleTimeout; d > 0 {
		tun.idle = newWatchdog(func(int32) { tun.close() })
		tun.idle.arm(0, d)
		defer tun.idle.stop()
	}
	errc := make(chan error, 2)
	go func() { errc <- pump(back, fromClient, tun) }()
	go func() { errc <- pump(conn, back, tun) }()
	<-errc
	tun.close()
	<-errc
	// A tunnel ending, cleanly or not, is the peers' business: nothing to
	// report to the client, whose connection is no longer HTTP.
	return nil
}

// pump copies src to dst, recording activity for the idle watch. It runs
// on its own goroutine, where a panic would take the process down, so a
// panic ends only this tunnel.
func pump(dst io.Writer, src io.Reader, tun *tunnel) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("tunnel copy panicked: %v", p)
		}
	}()
	bp := copybuf.Get()
	defer copybuf.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if tun.idle != nil {
				tun.idle.progress()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if rerr != nil {
			if rerr == io.EOF {
				return nil
			}
			return rerr
		}
	}
}
