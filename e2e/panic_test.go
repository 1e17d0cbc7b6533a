package e2e

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestRollingRestart: three backends behind the default health settings
// (passive max_fails 3, cooldown 10s; no active checks) are restarted one
// after another, one every 2s, each down for 1s, while clients send GETs.
// Before, each restart ejected its backend for the whole cooldown, so
// after the third one every target was out and about half of all GETs got
// 503. Now a target back from its restart earns its way in with a trial
// after a 1s backoff, and a pool with fewer than half of its targets in
// service routes to the ejected ones anyway (panic mode). Bounds: at most
// 1% of the answers are 503, at most 5% are errors of any kind (a request
// in flight on a connection that a restart kills cannot always be
// retried), and every backend serves again within 3s of the last restart.
func TestRollingRestart(t *testing.T) {
	t.Parallel()
	bs, vars := newBackends(t, "a", "b", "c")
	g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${A}", "${B}", "${C}"]
routes:
  - {match: {path: /}, upstream: pool}
`, vars)

	var mu sync.Mutex
	statuses := map[int]int{} // 0 = no answer
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			client := testkit.NewClient()
			defer client.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				status := 0
				if res, err := client.Get(g.URL + "/"); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}

	for _, name := range []string{"a", "b", "c"} {
		bs[name].Kill()
		time.Sleep(time.Second)
		bs[name].Restart()
		time.Sleep(time.Second)
	}
	hits := map[string]int{}
	for name, b := range bs {
		hits[name] = b.Hits()
	}
	testkit.Eventually(t, 3*time.Second, func() bool {
		for name, b := range bs {
			if b.Hits() == hits[name] {
				return false
			}
		}
		return true
	}, "a backend got no traffic within 3s of the last restart")
	time.Sleep(time.Second) // and a second of steady traffic
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, n := range statuses {
		total += n
	}
	t.Logf("%d GETs during the rolling restart: %v", total, statuses)
	switch {
	case total < 200:
		t.Fatalf("only %d requests sent", total)
	case statuses[0] > 0:
		t.Errorf("%d requests got no answer", statuses[0])
	case float64(statuses[http.StatusServiceUnavailable]) > 0.01*float64(total):
		t.Errorf("%d of %d GETs (%.1f%%) got 503, want at most 1%%", statuses[503], total, 100*float64(statuses[503])/float64(total))
	case float64(total-statuses[200]) > 0.05*float64(total):
		t.Errorf("%d of %d GETs failed, want at most 5%%", total-statuses[200], total)
	}
}

// TestSingleTargetStays is what a new user hit: a one-target upstream
// whose backend drops a few connections was ejected by the default passive
// check after three failures, and every request then got 503 for the
// cooldown (10s). The last target in service is never ejected on passive
// failures alone: the requests after the drops are served.
func TestSingleTargetStays(t *testing.T) {
	t.Parallel()
	var seen atomic.Int32
	drop, echo := testkit.HijackClose(false), testkit.Echo()
	b := testkit.NewBackend(t, "only", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= 5 {
			drop.ServeHTTP(w, r)
			return
		}
		echo.ServeHTTP(w, r)
	}))
	g := testkit.Start(t, `
upstreams:
  pool: {targets: ["${B}"]}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})

	for i := 0; seen.Load() < 5; i++ {
		if i > 20 {
			t.Fatalf("the backend saw %d requests in %d", seen.Load(), i)
		}
		if res, body := g.Get("/"); res.StatusCode != http.StatusBadGateway && res.StatusCode != 200 {
			t.Fatalf("while the backend drops connections: %d %q, want 502 (or 200 after a retry)", res.StatusCode, body)
		}
	}
	for i := range 3 {
		if res, body := g.Get("/"); res.StatusCode != 200 || body != "only" {
			t.Fatalf("request %d after the drops: %d %q, want the backend's answer", i, res.StatusCode, body)
		}
	}
	if e := g.Logs.Match("upstream target ejected"); len(e) > 0 {
		t.Errorf("the only target was ejected: %v", e[0])
	}
}
