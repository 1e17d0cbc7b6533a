package gateway

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	rlstore "github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
)

// limiterEntry is a named rate-limit store and the settings it was made
// with; stop ends its background work and connections.
type limiterEntry struct {
	cfg  config.RateLimitStore
	st   rlstore.Store
	stop func()
}

// sweepEvery is how often a memory store forgets clients whose allowance
// is full again.
const sweepEvery = 30 * time.Second

// defaultLimiterKeys bounds the memory limits naming no store count in.
const defaultLimiterKeys = 1_000_000

// compileRateLimits finds or makes the store of every named rate limit
// store: an unchanged one is the one in use (a reload keeps every
// client's allowance); a new one is adopted only when rt starts.
func (rt *Runtime) compileRateLimits() error {
	rt.limiters = make(map[string]*limiterEntry, len(rt.Config.RateLimits))
	for name, c := range rt.Config.RateLimits {
		if c == nil {
			continue
		}
		le, fresh, err := rt.env.limiter(name, c)
		if err != nil {
			return fmt.Errorf("rate limit store %q: %w", name, err)
		}
		rt.limiters[name] = le
		if fresh {
			rt.freshLimiters = append(rt.freshLimiters, le)
		}
	}
	return nil
}

// limiterStores are rt's rate-limit stores by name, for the middleware.
func (rt *Runtime) limiterStores() map[string]rlstore.Store {
	m := make(map[string]rlstore.Store, len(rt.limiters))
	for name, le := range rt.limiters {
		m[name] = le.st
	}
	return m
}

// limiter returns the store in use for name when its settings are c, or
// a new one (fresh).
func (e *Env) limiter(name string, c *config.RateLimitStore) (le *limiterEntry, fresh bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if le, ok := e.limiters[name]; ok && reflect.DeepEqual(le.cfg, *c) {
		return le, false, nil
	}
	le, err = newLimiter(c, e)
	return le, err == nil, err
}

func newLimiter(c *config.RateLimitStore, e *Env) (*limiterEntry, error) {
	if c.Redis == nil {
		m, stop := sweptMemory(c.Memory.MaxKeys)
		return &limiterEntry{cfg: *c, st: m, stop: stop}, nil
	}
	r := c.Redis
	addrs := r.Addresses
	if r.Address != "" {
		addrs = []string{r.Address}
	}
	rs, err := rlstore.NewRedis(rlstore.RedisOptions{
		Addresses: addrs, Cluster: r.Cluster, MasterName: r.MasterName, Username: r.Username, Password: r.Password,
		SentinelUsername: r.SentinelUsername, SentinelPassword: r.SentinelPassword,
		DB: r.DB, TLS: r.TLS, Prefix: r.Prefix, Timeout: r.Timeout.D(),
	})
	if err != nil {
		return nil, err
	}
	local, stop := sweptMemory(defaultLimiterKeys)
	g := &rlstore.Guarded{Primary: rs, Local: local, Deny: c.OnError == "deny", Log: e.Log.With("rate_limit_store", addrs[0])}
	return &limiterEntry{cfg: *c, st: g, stop: func() { stop(); _ = rs.Close() }}, nil
}

// sweptMemory is a memory store with its sweeper running until stop.
func sweptMemory(maxKeys int) (*rlstore.Memory, func()) {
	m := rlstore.NewMemory(maxKeys, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx, sweepEvery)
	}()
	return m, func() { cancel(); <-done }
}

// localLimiter is the memory store of limits that name none, made on
// first use and kept for the process.
func (e *Env) localLimiter() rlstore.Store {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.local == nil {
		m, stop := sweptMemory(defaultLimiterKeys)
		e.local = &limiterEntry{st: m, stop: stop}
	}
	return e.local.st
}

// adoptLimiters makes rt's stores the ones in use and stops those it no
// longer uses. Called with e.mu held.
func (e *Env) adoptLimiters(rt *Runtime) {
	retireUnused(e.limiters, rt.limiters, func(le *limiterEntry) { le.stop() })
	e.limiters = rt.limiters
	rt.freshLimiters = nil
}

// closeLimiters stops every rate-limit store. Called with e.mu held.
func (e *Env) closeLimiters() {
	for _, le := range e.limiters {
		le.stop()
	}
	e.limiters = nil
	if e.local != nil {
		e.local.stop()
		e.local = nil
	}
}
