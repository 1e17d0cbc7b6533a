package gateway

import (
	"log/slog"
	"reflect"
	"sync"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/proxy/h1client"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// Env is what outlives any one Runtime: the state that must survive a
// reload (target health, in-flight counts, pooled upstream connections,
// open WebSockets) and the loggers. Create one per process with NewEnv.
// Safe for concurrent use.
type Env struct {
	// Log receives errors and lifecycle events. Never nil after NewEnv.
	Log *slog.Logger
	// Access receives the access log; nil disables it regardless of config.
	Access *slog.Logger

	Store    *upstream.Store
	Upgrades *proxy.Upgrades
	// TLS owns the certificates TLS listeners serve, across reloads.
	TLS *tlsx.Manager
	// NewForwarder is the one constructor of forwarders, the engine that
	// sends requests to an upstream's targets with its connection
	// settings. NewEnv sets net/http's (proxy.NewHTTPForwarder); another
	// engine plugs in here.
	NewForwarder func(o proxy.TransportOptions, ups *proxy.Upgrades) proxy.Forwarder
	// HealthObserver, if set, is told of every target health transition
	// (the admin API and metrics read it); called on the goroutine that
	// saw the change, so it must not block.
	HealthObserver func(upstream.HealthEvent)
	// Metrics, the registry metrics will register with, comes here too:
	// like everything above it outlives reloads.

	mu         sync.Mutex
	forwarders map[string]*forwarderEntry // by upstream name
	caches     map[string]*cacheEntry     // by cache name; what they hold survives reloads
	limiters   map[string]*limiterEntry   // by rate-limit store name; so do they
	local      *limiterEntry              // the memory store of limits naming none
	keySets    map[string]*keySetEntry    // by jwt authenticator name; a reload keeps the fetched set
}

type forwarderEntry struct {
	opts proxy.TransportOptions
	fwd  proxy.Forwarder
}

// NewEnv returns an Env logging to log and access (either may be nil: a
// nil log discards, a nil access disables the access log).
func NewEnv(log, access *slog.Logger) *Env {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Env{
		Log:          log,
		Access:       access,
		Store:        upstream.NewStore(),
		Upgrades:     proxy.NewUpgrades(),
		TLS:          tlsx.NewManager(log, acme.NewManager(log)),
		forwarders:   make(map[string]*forwarderEntry),
		NewForwarder: newForwarder,
	}
}

// newForwarder is the default engine: Gatehouse's own HTTP/1.1 client
// for http:// targets, net/http's Transport for https:// (HTTP/2 or
// HTTP/1.1 by ALPN) and h2c:// targets.
func newForwarder(o proxy.TransportOptions, ups *proxy.Upgrades) proxy.Forwarder {
	if o.Scheme == "" || o.Scheme == upstream.SchemeHTTP {
		return h1client.New(o, ups)
	}
	return proxy.NewHTTPForwarder(o, ups)
}

// forwarder returns the forwarder for an upstream: the one in use when its
// settings are unchanged (so pooled connections carry over a reload), or a
// new one. A new forwarder is adopted only when its runtime starts (adopt),
// so compiling a runtime that is then refused changes nothing.
func (e *Env) forwarder(name string, o proxy.TransportOptions) proxy.Forwarder {
	e.mu.Lock()
	defer e.mu.Unlock()
	if fe, ok := e.forwarders[name]; ok && reflect.DeepEqual(fe.opts, o) {
		return fe.fwd
	}
	return e.NewForwarder(o, e.Upgrades)
}

// adopt makes rt's forwarders and target states the ones in use. Idle
// connections of forwarders rt no longer uses are closed; requests still
// in flight on them finish normally.
func (e *Env) adopt(rt *Runtime) {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := make(map[string]*forwarderEntry, len(rt.pools))
	for name, pe := range rt.pools {
		next[name] = &forwarderEntry{opts: pe.opts, fwd: pe.fwd}
	}
	for name, fe := range e.forwarders {
		if n, ok := next[name]; !ok || n.fwd != fe.fwd {
			fe.fwd.Close()
		}
	}
	e.forwarders = next
	e.adoptCaches(rt)
	e.adoptLimiters(rt)
	e.adoptKeySets(rt)
	pools := make([]*upstream.Pool, 0, len(rt.pools))
	for _, p := range rt.pools {
		pools = append(pools, p.pool)
	}
	e.Store.Retain(pools)
}
