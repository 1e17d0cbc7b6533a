package upstream

import "sync"

// Store holds the live state of targets (health, in-flight counts, passive
// failures) across config reloads. Build takes each target's state from the
// store by pool name and canonical target URL, so a target that is
// unchanged by a reload keeps its state, and a target that appears for the
// first time starts healthy. The zero value is not usable; use NewStore.
// Safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	states map[stateKey]*state
}

type stateKey struct {
	pool, url string
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{states: make(map[stateKey]*state)}
}

// state returns the state for (pool, url), creating a healthy one if
// there is none.
func (s *Store) state(pool, url string) *state {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := stateKey{pool, url}
	st := s.states[k]
	if st == nil {
		st = new(state)
		s.states[k] = st
	}
	return st
}

// Retain drops the state of every target not in one of pools, typically
// the pools of the runtime just swapped in. Pools still running from an
// older runtime keep working with the state they hold, but a later Build
// no longer finds it.
func (s *Store) Retain(pools []*Pool) {
	keep := make(map[*state]bool)
	for _, p := range pools {
		if p == nil {
			continue
		}
		for _, t := range p.Targets {
			keep[t.st] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.states {
		if !keep[st] {
			delete(s.states, k)
		}
	}
}

// len is the number of states held, for tests.
func (s *Store) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.states)
}
