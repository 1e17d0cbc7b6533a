package gateway

import (
	"bytes"
	"fmt"
	"os"
	"reflect"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/middleware/auth"
)

// keySetEntry is a jwt authenticator's JWKS key set and the settings it
// was made with (its CA bundle's contents too: a renewed bundle under the
// same name is a new set).
type keySetEntry struct {
	cfg config.JWKS
	ca  []byte
	ks  *auth.KeySet
}

// compileKeySets finds or makes the key set of every jwt authenticator
// with a jwks block. An unchanged one is the one in use, so a reload
// fetches nothing and keeps the last good set while the IdP is down; a
// new one starts fetching now and is adopted only when rt starts.
func (rt *Runtime) compileKeySets() error {
	rt.keySets = map[string]*keySetEntry{}
	for name, a := range rt.Config.Authenticators {
		if a == nil || a.JWT == nil || a.JWT.JWKS == nil {
			continue
		}
		ke, fresh, err := rt.env.keySet(name, a.JWT.JWKS)
		if err != nil {
			return fmt.Errorf("authenticator %q: jwks: %w", name, err)
		}
		rt.keySets[name] = ke
		if fresh {
			rt.freshKeySets = append(rt.freshKeySets, ke)
		}
	}
	return nil
}

// keySetsByName are rt's key sets, for the authenticators.
func (rt *Runtime) keySetsByName() map[string]*auth.KeySet {
	m := make(map[string]*auth.KeySet, len(rt.keySets))
	for name, ke := range rt.keySets {
		m[name] = ke.ks
	}
	return m
}

// keySet returns the key set in use for name when its settings are c, or
// a new one (fresh).
func (e *Env) keySet(name string, c *config.JWKS) (ke *keySetEntry, fresh bool, err error) {
	var ca []byte
	if c.CA != "" {
		if ca, err = os.ReadFile(c.CA); err != nil {
			return nil, false, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ke, ok := e.keySets[name]; ok && reflect.DeepEqual(ke.cfg, *c) && bytes.Equal(ke.ca, ca) {
		return ke, false, nil
	}
	o, err := config.KeySetOptions(c)
	if err != nil {
		return nil, false, err
	}
	ks, err := auth.NewKeySet(o, nil, e.Log.With("authenticator", name))
	if err != nil {
		return nil, false, err
	}
	return &keySetEntry{cfg: *c, ca: ca, ks: ks}, true, nil
}

// adoptKeySets makes rt's key sets the ones in use and closes those it no
// longer uses. Called with e.mu held.
func (e *Env) adoptKeySets(rt *Runtime) {
	retireUnused(e.keySets, rt.keySets, func(ke *keySetEntry) { _ = ke.ks.Close() })
	e.keySets = rt.keySets
	rt.freshKeySets = nil
}

// closeKeySets closes every key set. Called with e.mu held.
func (e *Env) closeKeySets() {
	for _, ke := range e.keySets {
		_ = ke.ks.Close()
	}
	e.keySets = nil
}
