package store

import "sync"

// tagIndex maps a tag to the keys whose current set carries it, for
// Memory.PurgeTag. An entry names the set it was made for and is removed
// only by that set's deletion event, so a set that replaced it keeps its
// own entries: the index holds exactly the tags of the sets in the cache,
// and shrinks as they are evicted, expire or are purged.
type tagIndex struct {
	mu sync.Mutex
	m  map[string]map[string]*memSet
}

func (x *tagIndex) init() { x.m = make(map[string]map[string]*memSet) }

func (x *tagIndex) add(key string, s *memSet) {
	if len(s.tags) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, t := range s.tags {
		keys := x.m[t]
		if keys == nil {
			keys = make(map[string]*memSet)
			x.m[t] = keys
		}
		keys[key] = s
	}
}

func (x *tagIndex) remove(key string, s *memSet) {
	if s == nil || len(s.tags) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, t := range s.tags {
		keys := x.m[t]
		if keys[key] != s {
			continue
		}
		delete(keys, key)
		if len(keys) == 0 {
			delete(x.m, t)
		}
	}
}

// keys returns the keys tagged tag, copied so the caller holds no lock.
func (x *tagIndex) keys(tag string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]string, 0, len(x.m[tag]))
	for k := range x.m[tag] {
		out = append(out, k)
	}
	return out
}

// size returns the number of tags and of (tag, key) entries.
func (x *tagIndex) size() (tags, entries int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, keys := range x.m {
		entries += len(keys)
	}
	return len(x.m), entries
}
