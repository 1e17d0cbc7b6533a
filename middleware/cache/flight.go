package cache

import (
	"context"
	"sync"
	"time"
)

// flights tracks the keys some request is fetching from the origin, so
// that concurrent misses of one key make one upstream request (request
// collapsing). It also remembers, for a while, the keys whose last
// answer could not be stored: collapsing onto those only queues requests
// behind one that cannot answer them (hit-for-miss). The zero value is
// ready to use.
type flights struct {
	mu   sync.Mutex
	m    map[string]*flight
	pass map[string]time.Time // key → until when misses go straight through
}

// passFor is how long a key whose answer was not storable skips
// collapsing; the first storable answer ends it sooner.
const passFor = 30 * time.Second

// maxPass bounds the remembered keys; a full table forgets one at random.
const maxPass = 10000

// flight is one key's fetch in progress; done closes when it ends.
type flight struct{ done chan struct{} }

// join returns the key's flight; leader is true when the caller started
// it and must call done.
func (fs *flights) join(key string) (fl *flight, leader bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fl, ok := fs.m[key]; ok {
		return fl, false
	}
	if fs.m == nil {
		fs.m = make(map[string]*flight)
	}
	fl = &flight{done: make(chan struct{})}
	fs.m[key] = fl
	return fl, true
}

// done ends the leader's flight and wakes its waiters.
func (fs *flights) done(key string, fl *flight) {
	fs.mu.Lock()
	if fs.m[key] == fl {
		delete(fs.m, key)
	}
	fs.mu.Unlock()
	close(fl.done)
}

// passing reports whether misses of key go to the origin without
// collapsing, because its last answer could not be stored.
func (fs *flights) passing(key string, now time.Time) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	until, ok := fs.pass[key]
	if ok && !now.Before(until) {
		delete(fs.pass, key)
		return false
	}
	return ok
}

// settle records how a fetch of key ended: stored (or freshened) ends
// any pass; an answer that could not be stored starts one at now.
func (fs *flights) settle(key string, storable bool, now time.Time) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if storable {
		delete(fs.pass, key)
		return
	}
	if fs.pass == nil {
		fs.pass = make(map[string]time.Time)
	}
	if _, ok := fs.pass[key]; !ok && len(fs.pass) >= maxPass {
		for k, until := range fs.pass {
			if !now.Before(until) {
				delete(fs.pass, k)
			}
		}
		for k := range fs.pass {
			if len(fs.pass) < maxPass {
				break
			}
			delete(fs.pass, k)
		}
	}
	fs.pass[key] = now.Add(passFor)
}

// wait blocks until the flight ends (true), or until timeout or ctx ends
// (false).
func (fl *flight) wait(ctx context.Context, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-fl.done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}
