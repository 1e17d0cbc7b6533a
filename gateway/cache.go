package gateway

import (
	"fmt"
	"reflect"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
)

// cacheEntry is a named cache's store and the settings it was made with.
type cacheEntry struct {
	cfg config.Cache
	st  store.Store
}

// compileCaches finds or makes the store of every named cache. A store
// whose settings are unchanged is the one in use (a reload keeps what it
// holds); a new one is made, and adopted only when rt starts.
func (rt *Runtime) compileCaches() error {
	rt.caches = make(map[string]*cacheEntry, len(rt.Config.Caches))
	for name, c := range rt.Config.Caches {
		if c == nil {
			continue
		}
		ce, fresh, err := rt.env.cache(name, c)
		if err != nil {
			return fmt.Errorf("cache %q: %w", name, err)
		}
		rt.caches[name] = ce
		if fresh {
			rt.freshCaches = append(rt.freshCaches, ce.st)
		}
	}
	return nil
}

// stores are the stores of rt's caches, by name, for the middleware.
func (rt *Runtime) stores() map[string]store.Store {
	m := make(map[string]store.Store, len(rt.caches))
	for name, ce := range rt.caches {
		m[name] = ce.st
	}
	return m
}

// cache returns the store in use for name when its settings are c, or a
// new one (fresh).
func (e *Env) cache(name string, c *config.Cache) (ce *cacheEntry, fresh bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ce, ok := e.caches[name]; ok && reflect.DeepEqual(ce.cfg, *c) {
		return ce, false, nil
	}
	st, err := newStore(c, e)
	if err != nil {
		return nil, false, err
	}
	return &cacheEntry{cfg: *c, st: st}, true, nil
}

// newStore builds the store c describes: memory, Redis, or memory in
// front of Redis.
func newStore(c *config.Cache, e *Env) (store.Store, error) {
	var mem *store.Memory
	if m := c.Memory; m != nil {
		mem = store.NewMemory(store.MemoryOptions{MaxBytes: int64(m.MaxBytes), MaxObjectBytes: int64(m.MaxObjectBytes)})
	}
	if c.Redis == nil {
		return mem, nil
	}
	r := c.Redis
	rs, err := store.NewRedis(store.RedisOptions{
		Address:        r.Address,
		Password:       r.Password,
		DB:             r.DB,
		Prefix:         r.Prefix,
		Timeout:        r.Timeout.D(),
		MaxObjectBytes: int64(r.MaxObjectBytes),
	})
	if err != nil {
		if mem != nil {
			mem.Close()
		}
		return nil, err
	}
	if mem == nil {
		return rs, nil
	}
	return store.NewTiered(mem, rs, e.Log.With("cache", r.Address)), nil
}

// adoptCaches makes rt's stores the ones in use and closes those it no
// longer uses. Called with e.mu held.
func (e *Env) adoptCaches(rt *Runtime) {
	retireUnused(e.caches, rt.caches, func(ce *cacheEntry) { _ = ce.st.Close() })
	e.caches = rt.caches
	rt.freshCaches = nil
}

// closeFresh closes the stores a runtime that never started made.
func (rt *Runtime) closeFresh() {
	for _, st := range rt.freshCaches {
		_ = st.Close()
	}
	rt.freshCaches = nil
	for _, le := range rt.freshLimiters {
		le.stop()
	}
	rt.freshLimiters = nil
	for _, ke := range rt.freshKeySets {
		_ = ke.ks.Close()
	}
	rt.freshKeySets = nil
}

// CloseCaches closes every cache, rate-limit store and JWKS key set (their
// background work, their connections). For the end of the process, once no
// runtime serves.
func (e *Env) CloseCaches() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ce := range e.caches {
		_ = ce.st.Close()
	}
	e.caches = nil
	e.closeLimiters()
	e.closeKeySets()
}

// retireUnused stops each entry of in use that next does not keep (by
// name, the very same entry): what a new runtime no longer needs, or
// made anew.
func retireUnused[E comparable](inUse, next map[string]E, stop func(E)) {
	for name, e := range inUse {
		if n, ok := next[name]; !ok || n != e {
			stop(e)
		}
	}
}
