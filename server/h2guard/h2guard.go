// Package h2guard bounds an HTTP/2 client that resets streams faster than
// any real client would: the rapid-reset pattern (CVE-2023-44487), where a
// client opens streams and cancels each at once, so that the server starts
// work for every one while the client's concurrent-stream limit never
// applies.
//
// A Conn wraps a server's connection (the *tls.Conn after the handshake,
// or the plain conn of h2c) before it is handed to golang.org/x/net/http2's
// Server.ServeConn. It reads the frame headers the client sends, counting
// the streams HEADERS opens and the RST_STREAM frames, and when its Policy
// trips, it writes a GOAWAY with ENHANCE_YOUR_CALM into the server's
// outbound bytes between two whole frames, stops passing the client's
// bytes on, and closes the connection a moment later. Streams the server
// had already accepted may finish in that moment.
//
// The guard parses no payload and keeps no per-stream state: a Read or
// Write costs a scan of the frame headers in it, without allocation.
package h2guard

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Policy's zero fields.
const (
	DefaultWindow     = 10 * time.Second
	DefaultMinResets  = 1000
	DefaultCloseAfter = time.Second
)

// Policy says when a connection resets streams faster than any real
// client, and what to do then. It trips when, counted over about the last
// Window, the client has reset at least MinResets streams and its resets
// are more than half of the streams it opened. The counts are halved every
// Window, so a burst is remembered for a window or two and a long-lived
// connection is judged on its recent behaviour.
//
// Both conditions are needed. An attacker resets nearly every stream it
// opens, thousands a second. A browser cancels a few requests at a time
// (navigating away, a scroll past images) and a gRPC client cancels the
// calls whose deadline passed or whose hedge lost; either may cancel a
// large share of its calls for a moment, but not a thousand within ten
// seconds while cancelling most of everything it asks for. The defaults
// are wider than Envoy's premature-reset limit (more than half of at least
// 500 streams).
//
// A Policy is read by every Conn it wraps and must not change after the
// first Wrap. The zero Policy uses the defaults and reports to no one.
type Policy struct {
	// Window is the period over which counts are kept. Zero means
	// DefaultWindow.
	Window time.Duration
	// MinResets is the fewest resets within a window that trip the
	// guard. Zero means DefaultMinResets.
	MinResets int
	// CloseAfter is how long the connection stays open after the GOAWAY,
	// for the streams the server already accepted. Zero means
	// DefaultCloseAfter.
	CloseAfter time.Duration
	// Listener names the listener in the Events reported.
	Listener string
	// OnTrip, if not nil, is called once per connection that trips, on
	// the goroutine reading the connection (the server's): it should
	// return promptly, logging the event, say.
	OnTrip func(Event)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Event describes a connection that tripped its Policy.
type Event struct {
	// Listener is the Policy's Listener; Remote the client's address.
	Listener string
	Remote   net.Addr
	// Opened and Resets are the streams counted in the window when the
	// guard tripped (halved per window, as the Policy says).
	Opened, Resets int
	// LastStream is the highest stream the client opened, the last
	// stream ID of the GOAWAY.
	LastStream uint32
}

func (p *Policy) window() time.Duration     { return orDefault(p.Window, DefaultWindow) }
func (p *Policy) closeAfter() time.Duration { return orDefault(p.CloseAfter, DefaultCloseAfter) }

func (p *Policy) minResets() int {
	if p.MinResets > 0 {
		return p.MinResets
	}
	return DefaultMinResets
}

func (p *Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// goawayDebug is the GOAWAY's debug data, so that a client's log (and a
// test) can tell the guard's GOAWAY from the server's own.
const goawayDebug = "h2guard: streams reset too fast"

const goawayLen = headerLen + 8 + len(goawayDebug)

// Conn is a server's HTTP/2 connection under a Policy. Read must be
// called from one goroutine at a time (as x/net's server does); Write and
// Close may be called from any.
type Conn struct {
	net.Conn
	p *Policy

	// Read side: the client's frames and what they count.
	in             scanner
	since          time.Time // start of the current window
	opened, resets int
	lastStream     uint32
	tripped        bool

	// Write side: mu serializes the server's writes with the GOAWAY,
	// which out places between whole frames. pending is set once the
	// GOAWAY is built and waits for a boundary; sent once it is written.
	mu      sync.Mutex
	out     scanner
	broken  bool // a write failed: the scan may not match the wire
	pending atomic.Bool
	sent    bool
	goaway  [goawayLen]byte

	life   sync.Mutex // guards timer and closed
	timer  *time.Timer
	closed bool
	err    error
}

// tlsConn is a Conn over a connection with TLS state, which it exposes:
// x/net's server reads ConnectionState to learn the connection is TLS.
type tlsConn struct {
	Conn
	cs interface{ ConnectionState() tls.ConnectionState }
}

// ConnectionState returns the wrapped connection's TLS state.
func (c *tlsConn) ConnectionState() tls.ConnectionState { return c.cs.ConnectionState() }

// Wrap returns c under p. The result is a *Conn, or, when c has a
// ConnectionState method (a *tls.Conn), a connection that also has one.
// c must not have been read yet: the first bytes are the client preface.
func (p *Policy) Wrap(c net.Conn) net.Conn {
	if cs, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		t := &tlsConn{cs: cs}
		t.Conn.init(c, p)
		return t
	}
	g := &Conn{}
	g.init(c, p)
	return g
}

func (c *Conn) init(inner net.Conn, p *Policy) {
	c.Conn, c.p = inner, p
	c.in.skip = prefaceLen
	c.since = p.now()
}

// NetConn returns the wrapped connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Read reads from the connection and counts the frames read. Once the
// guard has tripped, it reads on only to discard, until the connection
// closes.
func (c *Conn) Read(b []byte) (int, error) {
	if c.tripped {
		return c.discard(b)
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.scan(b[:n])
	}
	return n, err
}

func (c *Conn) discard(b []byte) (int, error) {
	for {
		if _, err := c.Conn.Read(b); err != nil {
			return 0, err
		}
	}
}

// scan counts the frames in p and trips the guard when the Policy says.
// The clock is read once, at the first frame that counts.
func (c *Conn) scan(p []byte) {
	var now time.Time
	trip := false
	for len(p) > 0 {
		n, h, ok := c.in.next(p)
		p = p[n:]
		if !ok || (h.typ != frameHeaders && h.typ != frameRSTStream) {
			continue
		}
		if now.IsZero() {
			now = c.p.now()
			c.age(now)
		}
		if h.typ == frameHeaders {
			if h.stream > c.lastStream { // not the trailers of an open stream
				c.lastStream = h.stream
				c.opened++
			}
			continue
		}
		c.resets++
		trip = trip || c.resets >= c.p.minResets() && 2*c.resets > c.opened
	}
	if trip && !c.tripped {
		c.trip()
	}
}

// age halves the counts for every window that ended before now.
func (c *Conn) age(now time.Time) {
	w := c.p.window()
	el := now.Sub(c.since)
	if el < w {
		return
	}
	k := el / w
	if k >= 62 {
		c.opened, c.resets = 0, 0
	} else {
		c.opened >>= k
		c.resets >>= k
	}
	c.since = c.since.Add(k * w)
}

// trip sends the GOAWAY as soon as the server's bytes allow, reports the
// event and schedules the close. It runs once, on the reading goroutine,
// after the whole read was scanned, so the GOAWAY's last stream is the
// last the server will see.
func (c *Conn) trip() {
	c.tripped = true
	g := c.goaway[:]
	l := goawayLen - headerLen
	g[0], g[1], g[2], g[3] = byte(l>>16), byte(l>>8), byte(l), frameGoAway
	g[9], g[10], g[11], g[12] = byte(c.lastStream>>24), byte(c.lastStream>>16), byte(c.lastStream>>8), byte(c.lastStream)
	g[16] = errEnhanceYourCalm
	copy(g[17:], goawayDebug)
	c.pending.Store(true)
	// Written here if no server write is under way and the last one
	// ended a frame; otherwise by the next Write, at its first boundary.
	if c.mu.TryLock() {
		if c.pending.Load() && !c.broken && c.out.atBoundary() {
			c.writeGoAway()
		}
		c.mu.Unlock()
	}
	if c.p.OnTrip != nil {
		c.p.OnTrip(Event{Listener: c.p.Listener, Remote: c.RemoteAddr(),
			Opened: c.opened, Resets: c.resets, LastStream: c.lastStream})
	}
	c.life.Lock()
	if !c.closed {
		c.timer = time.AfterFunc(c.p.closeAfter(), func() { c.Close() })
	}
	c.life.Unlock()
}

// writeGoAway writes the GOAWAY; c.mu is held and the stream is at a
// frame boundary.
func (c *Conn) writeGoAway() {
	c.pending.Store(false)
	c.sent = true
	if _, err := c.Conn.Write(c.goaway[:]); err != nil {
		c.broken = true
	}
}

// Write writes b, a part of the server's frames. A GOAWAY that is pending
// goes out at the first frame boundary within b, or after b if b ends one.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pending.Load() || c.broken {
		return c.write(b)
	}
	i := c.out.boundary(b)
	if i < 0 {
		// b ends inside a frame: boundary has scanned it already.
		return c.writeScanned(b)
	}
	n, err := c.writeScanned(b[:i])
	if err != nil {
		return n, err
	}
	c.writeGoAway()
	if c.broken {
		return n, net.ErrClosed
	}
	m, err := c.write(b[i:])
	return n + m, err
}

// write writes b and scans what was written.
func (c *Conn) write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := c.Conn.Write(b)
	c.out.skipAll(b[:n])
	if err != nil {
		c.broken = true
	}
	return n, err
}

// writeScanned writes b, which the scanner has passed over already.
func (c *Conn) writeScanned(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := c.Conn.Write(b)
	if err != nil || n < len(b) {
		c.broken = true
	}
	return n, err
}

// Close closes the connection. A GOAWAY still pending is written first
// if the server's bytes end at a frame boundary and no write is under
// way.
func (c *Conn) Close() error {
	c.life.Lock()
	defer c.life.Unlock()
	if c.closed {
		return c.err
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.pending.Load() && c.mu.TryLock() {
		if c.pending.Load() && !c.broken && c.out.atBoundary() {
			c.Conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			c.writeGoAway()
		}
		c.mu.Unlock()
	}
	c.err = c.Conn.Close()
	return c.err
}

// Tripped reports whether the guard has tripped and, if so, whether the
// GOAWAY was written. For tests and logs; safe from any goroutine.
func (c *Conn) Tripped() (tripped, sent bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent || c.pending.Load(), c.sent
}

// Interface guards.
var (
	_ net.Conn = (*Conn)(nil)
	_ net.Conn = (*tlsConn)(nil)
)
