package cache

import (
	"context"
	"sync"
	"time"
)

// flights tracks the keys some request is fetching from the origin, so
// that concurrent misses of one key make one upstream request (request
// collapsing). The zero value is ready to use.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

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
