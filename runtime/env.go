package runtime

import (
	"log/slog"
	"reflect"
	"sync"

	"github.com/gatehouse-proxy/gatehouse/proxy"
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

	mu         sync.Mutex
	forwarders map[string]*forwarderEntry // by upstream name
}

type forwarderEntry struct {
	opts proxy.TransportOptions
	fwd  *proxy.HTTPForwarder
}

// NewEnv returns an Env logging to log and access (either may be nil: a
// nil log discards, a nil access disables the access log).
func NewEnv(log, access *slog.Logger) *Env {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Env{
		Log:        log,
		Access:     access,
		Store:      upstream.NewStore(),
		Upgrades:   proxy.NewUpgrades(),
		forwarders: make(map[string]*forwarderEntry),
	}
}

// forwarder returns the forwarder for an upstream, reusing the previous
// runtime's (and its pooled connections) when the settings are unchanged.
func (e *Env) forwarder(name string, o proxy.TransportOptions) *proxy.HTTPForwarder {
	e.mu.Lock()
	defer e.mu.Unlock()
	if fe, ok := e.forwarders[name]; ok && reflect.DeepEqual(fe.opts, o) {
		return fe.fwd
	}
	fe := &forwarderEntry{opts: o, fwd: proxy.NewHTTPForwarder(o, e.Upgrades)}
	if old, ok := e.forwarders[name]; ok {
		old.fwd.Close()
	}
	e.forwarders[name] = fe
	return fe.fwd
}

// retain closes the idle connections of forwarders no longer used by rt,
// and forgets them. Requests still in flight on them finish normally.
func (e *Env) retain(rt *Runtime) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for name, fe := range e.forwarders {
		if _, ok := rt.pools[name]; !ok {
			fe.fwd.Close()
			delete(e.forwarders, name)
		}
	}
	pools := make([]*upstream.Pool, 0, len(rt.pools))
	for _, p := range rt.pools {
		pools = append(pools, p.pool)
	}
	e.Store.Retain(pools)
}
