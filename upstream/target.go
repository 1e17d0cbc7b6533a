// Package upstream holds the pools of backend targets a route forwards to:
// the targets and their live health, the balancing policies that pick one
// per request, active and passive health checking, and the retry budget.
package upstream

import (
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"time"
)

// Target is one backend of a pool. Its exported fields are fixed when the
// pool is built; its live state (in-flight count, health) lives in a state
// shared through the Store, so it survives reloads. Safe for concurrent use.
type Target struct {
	// URL is the parsed target URL (scheme and host only).
	URL *url.URL
	// Name is the URL as configured, for logs.
	Name string
	// Addr is host:port, the address dialled.
	Addr string
	// Weight is the relative share of traffic, at least 1.
	Weight int
	// ID is a stable opaque identifier (derived from the pool name and URL)
	// used in sticky-session cookies, so internal addresses are not exposed.
	ID string

	hash uint64 // stable hash of the canonical URL, for consistent hashing
	idx  int    // index in Pool.Targets
	st   *state
	pool *Pool
}

// state is the part of a target that outlives a reload.
type state struct {
	inflight   atomic.Int64
	activeDown atomic.Bool  // set by the active checker
	fails      atomic.Int32 // consecutive passive failures while in service
	// Passive ejection (see passive.go): ejected is when the next trial
	// request may go, in unix nanos, or 0 while the target is in
	// service; backoff is the current wait between trials, in nanos;
	// trial is set while a trial request is out.
	ejected atomic.Int64
	backoff atomic.Int64
	trial   atomic.Bool
}

// Available reports whether the target is in service: not marked down by
// active checks and not ejected by passive ones. An ejected target stays
// out until a request succeeds on it (its trial, see passive.go), however
// long ago it was ejected; in panic mode Pick routes to it all the same.
func (t *Target) Available() bool {
	return !t.st.activeDown.Load() && t.st.ejected.Load() == 0
}

// Inflight is the number of requests currently being forwarded to t.
func (t *Target) Inflight() int64 { return t.st.inflight.Load() }

// Begin and End bracket one forwarded request, for least_conn and p2c.
func (t *Target) Begin() { t.st.inflight.Add(1) }
func (t *Target) End()   { t.st.inflight.Add(-1) }

// Choice carries what a balancer may look at for one request, and the
// targets already tried, so that a retry goes elsewhere.
type Choice struct {
	Req       *http.Request
	ClientIP  netip.Addr
	tried     [MaxAttempts]*Target
	n         int
	panicMode bool // set by Pool.Pick: passive ejections are ignored
}

// MaxAttempts bounds tries per request, the first included.
const MaxAttempts = 8

// Usable reports whether t may take this attempt: not yet tried, and
// Available, or in panic mode merely not marked down by active checks.
func (c *Choice) Usable(t *Target) bool {
	return (t.Available() || c.panicMode && !t.st.activeDown.Load()) && !c.Tried(t)
}

// Tried reports whether t was already tried for this request.
func (c *Choice) Tried(t *Target) bool {
	for _, x := range c.tried[:c.n] {
		if x == t {
			return true
		}
	}
	return false
}

// Mark records that t is being tried.
func (c *Choice) Mark(t *Target) {
	if c.n < len(c.tried) {
		c.tried[c.n] = t
		c.n++
	}
}

// Attempts is the number of targets tried so far.
func (c *Choice) Attempts() int { return c.n }

// Balancer picks a target for a request. Implementations are small,
// stateless or internally synchronized, and must not allocate.
type Balancer interface {
	// Pick returns a usable target (c.Usable), or nil when none is.
	Pick(c *Choice) *Target
}

// Stamper is implemented by balancers that mark the response, such as
// sticky sessions setting their cookie. Stamp is called before the
// response header is written, with the target that answered.
type Stamper interface {
	Stamp(h http.Header, c *Choice, t *Target)
}

// clock is injected so tests control time.
type clock func() time.Time
