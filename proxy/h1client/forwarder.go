// Package h1client is Gatehouse's own HTTP/1.1 client to http:// targets:
// a proxy.Forwarder with a keep-alive pool per target, written for the
// proxy's hot path. Compared with net/http's Transport it costs a few
// allocations per request instead of some thirty-six, keeps 8 KiB of
// buffers per pooled connection instead of 64, and puts the deadlines
// (dial, response header, pauses while sending and receiving) on the
// connection itself, with no timer or context per request; a quick
// bodiless exchange mostly changes none of them (deadline.go).
//
// Framing follows RFC 9112 section 6.3: no body for HEAD, 1xx, 204 and
// 304; a body without Content-Length or Transfer-Encoding ends with the
// connection. A target's answer is held to the rules Gatehouse's server
// holds clients to (server/h1/differences.md): both lengths, two
// Content-Length fields or a list, Transfer-Encoding in HTTP/1.0,
// obs-fold, bare LF line ends and a stray empty line are a malformed
// response (502), and its connection is closed. A connection is reused
// only after a response read to its end with keep-alive in effect.
//
// A pooled connection the target closed while it sat idle is noticed
// before reuse (a non-blocking peek), and a request that fails on a
// reused connection before any byte of the answer arrived is sent once
// more on a fresh connection when repeating it is safe (an idempotent
// method, and no body or none of it read yet).
//
// TLS and h2c targets stay on proxy.HTTPForwarder (net/http's Transport).
package h1client

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// Forwarder sends requests to http:// targets over pooled HTTP/1.1
// connections. Safe for concurrent use.
type Forwarder struct {
	opts   proxy.TransportOptions
	tunnel proxy.Tunnel

	// pools maps a target's dial address to its pool; copy on write, so
	// the lookup per request takes no lock.
	pools  atomic.Pointer[map[string]*hostPool]
	mu     sync.Mutex // serializes adding pools
	closed atomic.Bool
}

// New returns a forwarder with o's settings (its Scheme must be http).
// ups tracks upgraded connections; nil leaves them untracked.
func New(o proxy.TransportOptions, ups *proxy.Upgrades) *Forwarder {
	f := &Forwarder{opts: o, tunnel: proxy.Tunnel{Upgrades: ups, IdleTimeout: o.UpgradeIdleTimeout}}
	m := map[string]*hostPool{}
	f.pools.Store(&m)
	return f
}

// pool returns the pool of connections to addr.
func (f *Forwarder) pool(addr string) *hostPool {
	if p, ok := (*f.pools.Load())[addr]; ok {
		return p
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old := *f.pools.Load()
	if p, ok := old[addr]; ok {
		return p
	}
	p := newHostPool(addr, &f.opts, &f.closed)
	next := make(map[string]*hostPool, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[addr] = p
	f.pools.Store(&next)
	return p
}

// Close closes the idle connections; connections in use close when their
// request ends. Implements proxy.Forwarder.
func (f *Forwarder) Close() {
	f.closed.Store(true)
	for _, p := range *f.pools.Load() {
		p.closeIdle()
	}
}

// Forward implements proxy.Forwarder.
func (f *Forwarder) Forward(w http.ResponseWriter, out *http.Request, t *upstream.Target, edit proxy.ResponseEditor) error {
	p := f.pool(t.Addr)
	c := call{f: f, w: w, out: out, t: t, edit: edit}
	again, err := c.attempt(p, false)
	if again {
		// The target closed a pooled connection just as it was reused:
		// nothing was answered, so once more on a fresh connection.
		_, err = c.attempt(p, true)
	}
	return err
}

var _ proxy.Forwarder = (*Forwarder)(nil)
