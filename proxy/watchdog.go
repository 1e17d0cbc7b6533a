package proxy

import (
	"sync"
	"sync/atomic"
	"time"
)

// watchdog fires when the current phase of an exchange makes no progress
// for that phase's limit: the wait for a pooled connection, the upload of
// a request body, the download of a response body, a tunnel's traffic.
// Progress is an atomic store, cheap enough for every read and write; the
// timer is re-armed only when it fires early. Safe for concurrent use.
type watchdog struct {
	fire  func(phase int32) // called at most once, with the stalled phase
	last  atomic.Int64      // unix nanos of the last progress
	limit atomic.Int64      // nanos; 0 = disarmed
	phase atomic.Int32

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func newWatchdog(fire func(phase int32)) *watchdog { return &watchdog{fire: fire} }

// arm starts phase with limit d, counting from now; d == 0 disarms.
func (w *watchdog) arm(phase int32, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last.Store(time.Now().UnixNano())
	w.phase.Store(phase)
	w.limit.Store(int64(d))
	if d <= 0 || w.stopped {
		return
	}
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.check)
	} else {
		w.timer.Reset(d)
	}
}

// disarmIf disarms the watchdog if phase is still the current one: the
// request body's end ends the send phase, but must not end a read phase
// that began while the body was still streaming (full duplex).
func (w *watchdog) disarmIf(phase int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase.Load() == phase {
		w.limit.Store(0)
	}
}

// progress records that bytes moved in the current phase.
func (w *watchdog) progress() { w.last.Store(time.Now().UnixNano()) }

// Progress implements Progress.
func (w *watchdog) Progress() { w.progress() }

// stop disarms the watchdog for good.
func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	lim := w.limit.Load()
	if w.stopped || lim == 0 {
		return
	}
	idle := time.Now().UnixNano() - w.last.Load()
	if idle < lim {
		w.timer.Reset(time.Duration(lim - idle))
		return
	}
	w.stopped = true
	w.fire(w.phase.Load())
}
