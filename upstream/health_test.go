package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// backend is a real HTTP server whose health answer tests can flip.
type backend struct {
	*httptest.Server
	status atomic.Int32
	delay  atomic.Int64 // nanoseconds to wait before answering
	probes atomic.Int32
	mu     sync.Mutex
	host   string
	path   string
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.status.Store(200)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.probes.Add(1)
		b.mu.Lock()
		b.host, b.path = r.Host, r.URL.RequestURI()
		b.mu.Unlock()
		select {
		case <-time.After(time.Duration(b.delay.Load())):
		case <-r.Context().Done():
		}
		if code := int(b.status.Load()); code/100 == 3 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(int(b.status.Load()))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) seen() (host, path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.host, b.path
}

// okStatus is the expect_status config defaults to, 200-399.
func okStatus(c int) bool { return c >= 200 && c <= 399 }

// fast is an active check that decides within milliseconds.
func fast() *Active {
	return &Active{
		Path: "/health", Interval: 5 * time.Millisecond, Timeout: time.Second,
		ExpectStatus: okStatus, HealthyThreshold: 2, UnhealthyThreshold: 2,
	}
}

// startActive builds a pool over these target URLs with check a, starts
// it, and stops it (waiting for the checkers) at the end of the test.
func startActive(t *testing.T, a *Active, logs *logBuffer, targets ...string) *Pool {
	t.Helper()
	p := build(t, Spec{Targets: urls(targets...), Active: a}, Options{Logger: logs.logger()})
	ctx, cancel := context.WithCancel(context.Background())
	p.Start(ctx)
	t.Cleanup(func() { cancel(); p.Wait() })
	return p
}

// eventually fails the test unless cond becomes true within 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
	}
}

func TestActiveFlips(t *testing.T) {
	b := newBackend(t)
	logs := &logBuffer{}
	p := startActive(t, fast(), logs, b.URL)
	tg := p.Targets[0]
	eventually(t, "probes", func() bool { return b.probes.Load() >= 3 })
	if !tg.Available() {
		t.Fatal("healthy target marked down")
	}
	b.status.Store(500)
	// Each verdict is visible a moment before its log line: wait for both.
	eventually(t, "target down", func() bool { return !tg.Available() && logs.count("upstream target down") > 0 })
	b.status.Store(204)
	eventually(t, "target back", func() bool { return tg.Available() && logs.count("upstream target healthy") > 0 })
	if n := logs.count("upstream target down"); n != 1 || !strings.Contains(logs.String(), "reason=\"status 500\"") {
		t.Errorf("want one down log with the status:\n%s", logs)
	}
	if n := logs.count("upstream target healthy"); n != 1 {
		t.Errorf("want one healthy log:\n%s", logs)
	}
	if host, path := b.seen(); path != "/health" || host != tg.URL.Host {
		t.Errorf("probe sent Host %q path %q", host, path)
	}
}

func TestActiveFailures(t *testing.T) {
	slow := newBackend(t)
	slow.delay.Store(int64(time.Second))
	closed := newBackend(t)
	closed.Close()
	unexpected := newBackend(t)
	unexpected.status.Store(301)
	only200 := func(c int) bool { return c == 200 }
	tests := []struct {
		name, url string
		expect    func(int) bool
		reason    string
	}{
		{"timeout", slow.URL, okStatus, "deadline exceeded"},
		{"refused", closed.URL, nil, "connection refused"},
		{"redirect not followed, not expected", unexpected.URL, only200, "status 301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fast()
			a.Timeout = 20 * time.Millisecond
			a.ExpectStatus = tt.expect
			logs := &logBuffer{}
			p := startActive(t, a, logs, tt.url)
			// The verdict may be visible a moment before its log line.
			eventually(t, "target down with "+tt.reason+" logged", func() bool {
				return !p.Targets[0].Available() && strings.Contains(logs.String(), tt.reason)
			})
		})
	}
}

// The first probe runs at Start, not an interval later; Host is set.
func TestActiveFirstProbeAndHost(t *testing.T) {
	b := newBackend(t)
	b.status.Store(503)
	a := fast()
	a.Interval = time.Hour
	a.UnhealthyThreshold = 1
	a.Host = "health.internal"
	a.Path = "/ready?full=1"
	p := startActive(t, a, &logBuffer{}, b.URL)
	eventually(t, "first probe marks down", func() bool { return !p.Targets[0].Available() })
	if host, path := b.seen(); host != "health.internal" || path != "/ready?full=1" {
		t.Errorf("probe sent Host %q path %q", host, path)
	}
}

// Thresholds count consecutive results only.
func TestActiveThresholds(t *testing.T) {
	p := build(t, Spec{Targets: weighted(1), Active: &Active{
		Interval: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 3,
	}}, Options{})
	tg := p.Targets[0]
	var run streak
	// results: x = failed probe, o = passed; want: d = down after it, u = up.
	results, want := "xxoxxxoxoooxx", "uuuuudddduuuu"
	for i, r := range results {
		reason := ""
		if r == 'x' {
			reason = "status 500"
		}
		p.record(tg, &run, reason)
		if got := tg.Available(); got != (want[i] == 'u') {
			t.Fatalf("after %q: available = %v", results[:i+1], got)
		}
	}
}

// Checkers stop when the context is done, leaving no goroutines behind.
func TestActiveStopsNoLeak(t *testing.T) {
	b := newBackend(t)
	cfg := Spec{Targets: urls(b.URL, "http://127.0.0.1:1"), Active: fast()}
	before := runtime.NumGoroutine()
	p := build(t, cfg, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	p.Start(ctx)
	p.Start(ctx) // a second Start does nothing
	eventually(t, "probes", func() bool { return b.probes.Load() >= 4 })
	cancel()
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("checkers did not stop")
	}
	eventually(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })

	// Without active checks Start starts nothing.
	q := policy(t, "round_robin", 1)
	q.Start(context.Background())
	if q.started.Load() {
		t.Error("Start without active checks started")
	}
}

// Without ExpectStatus every answer passes: only a probe that gets none
// fails.
func TestActiveAnyStatus(t *testing.T) {
	b := newBackend(t)
	b.status.Store(500)
	a := fast()
	a.ExpectStatus = nil
	a.UnhealthyThreshold = 1
	p := startActive(t, a, &logBuffer{}, b.URL)
	eventually(t, "probes", func() bool { return b.probes.Load() >= 3 })
	if !p.Targets[0].Available() {
		t.Error("a target answering 500 is down without an expect_status")
	}
}
