package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// sharedCacheConfig is one instance of the shared-cache test: memory in
// front of the test's Redis, one cached route in front of its backend.
const sharedCacheConfig = `listeners: [{address: "127.0.0.1:0"}]
log: {level: info, access: false}
limits: {drain_timeout: 2s}
caches:
  shared:
    memory: {max_bytes: 64MiB}
    redis: {address: "%REDIS%", prefix: "gh:"}
routes:
  - upstream: "%B%"
    cache: {store: shared, purge_from: [127.0.0.1]}
`

// sharedHost is the Host of every request of the test: it is part of the
// cache key, and instances behind one name all see it.
const sharedHost = "shop.test"

// The Tiered store's log lines about an outage.
const (
	redisDownLine    = "redis unavailable, serving from memory only"
	redisBackLine    = "redis available again, serving from memory and redis"
	redisResumedLine = "redis invalidations resumed; memory tier emptied, as some may have been missed"
)

// largeBodyBytes spans several of the Redis store's 256 KiB chunks.
const largeBodyBytes = 5 << 20

// TestCacheSharedAcrossInstances runs two gatehouse processes sharing one
// Redis-backed cache in front of one backend, and checks what the
// sharing promises: what one instance stored the other serves, a purge
// through one reaches the other's memory, a Redis outage costs neither
// instance an error or a stall (and is logged once, as is the
// recovery), and a body of many chunks comes back byte for byte.
//
// Not parallel: it times requests against a bound, which other tests
// sharing the CPU would make meaningless.
func TestCacheSharedAcrossInstances(t *testing.T) {
	rds := testkit.StartRedis(t)
	large := make([]byte, largeBodyBytes)
	rand.NewChaCha8([32]byte{7}).Read(large)
	b := testkit.NewBackend(t, "origin", sharedOrigin(large))
	bin, dir := testkit.TestBinary(t), t.TempDir()
	config := strings.NewReplacer("%REDIS%", rds.Addr(), "%B%", b.URL).Replace(sharedCacheConfig)
	na, nb := launchCacheNode(t, bin, dir, "a", config), launchCacheNode(t, bin, dir, "b", config)
	na.ready(t)
	nb.ready(t)
	waitSubscribers(t, rds, 2)
	start := time.Now()

	if !t.Run("stored through A, a hit through B", func(t *testing.T) {
		first := na.get(t, "/page")
		if !first.stored() {
			t.Fatalf("A: Cache-Status %q, want a stored miss", first.cacheStatus)
		}
		waitInRedis(t, rds, first)
		got := nb.get(t, "/page")
		if !got.hit() || string(got.body) != "origin says /page" {
			t.Errorf("B: Cache-Status %q, body %q; want a hit with the origin's body", got.cacheStatus, got.body)
		}
		if n := originHits(b, "/page"); n != 1 {
			t.Errorf("the backend saw %d requests for /page, want 1", n)
		}
	}) {
		return
	}

	t.Run("purges through A reach B's memory", func(t *testing.T) {
		t.Run("url", func(t *testing.T) {
			warm(t, rds, na, nb, "/item", "/item?color=red")
			if n, scope := na.purge(t, "/item"); n != 1 || scope != "url" {
				t.Errorf("PURGE /item: purged %d, scope %q; want 1, url", n, scope)
			}
			waitMiss(t, nb, "/item")
			if n := originHits(b, "/item"); n != 2 {
				t.Errorf("the backend saw %d requests for /item, want 2 (A's miss and B's after the purge)", n)
			}
			if got := nb.get(t, "/item?color=red"); !got.hit() {
				t.Errorf("B: /item?color=red is another URL but Cache-Status is %q", got.cacheStatus)
			}
		})
		t.Run("prefix", func(t *testing.T) {
			warm(t, rds, na, nb, "/dir/1", "/dir/2", "/dirt")
			if n, scope := na.purge(t, "/dir/*"); n != 2 || scope != "prefix" {
				t.Errorf("PURGE /dir/*: purged %d, scope %q; want 2, prefix", n, scope)
			}
			waitMiss(t, nb, "/dir/1")
			waitMiss(t, nb, "/dir/2")
			if got := nb.get(t, "/dirt"); !got.hit() {
				t.Errorf("B: /dirt is outside /dir/ but Cache-Status is %q", got.cacheStatus)
			}
		})
		t.Run("surrogate key", func(t *testing.T) {
			warm(t, rds, na, nb, "/tagged/1", "/tagged/2", "/untagged")
			if n, scope := na.purge(t, "/", "Surrogate-Key", "product-7"); n != 2 || scope != "tag" {
				t.Errorf("PURGE with Surrogate-Key product-7: purged %d, scope %q; want 2, tag", n, scope)
			}
			waitMiss(t, nb, "/tagged/1")
			waitMiss(t, nb, "/tagged/2")
			if got := nb.get(t, "/untagged"); !got.hit() {
				t.Errorf("B: /untagged has no tag but Cache-Status is %q", got.cacheStatus)
			}
		})
	})

	if !t.Run("redis outage", func(t *testing.T) {
		warm(t, rds, na, nb, "/held")
		resumed := map[*cacheNode]int{}
		for _, n := range []*cacheNode{na, nb} {
			resumed[n] = len(n.proc.Logs.Match(redisResumedLine))
		}
		rds.Kill()
		for round := range 10 {
			for _, n := range []*cacheNode{na, nb} {
				if got := n.getQuick(t, "/held"); !got.hit() {
					t.Errorf("%s round %d: /held is in its memory but Cache-Status is %q", n.name, round, got.cacheStatus)
				}
				path := "/outage/" + n.name + "/" + strconv.Itoa(round)
				before := originHits(b, path)
				if got := n.getQuick(t, path); got.hit() {
					t.Errorf("%s: %s was never fetched but is a hit", n.name, path)
				}
				if originHits(b, path) != before+1 {
					t.Errorf("%s: the miss of %s did not reach the backend", n.name, path)
				}
			}
		}
		for _, n := range []*cacheNode{na, nb} {
			waitLogCount(t, n, 5*time.Second, redisDownLine, 1)
			if c := len(n.proc.Logs.Match(redisDownLine)); c != 1 {
				t.Errorf("%s logged %q %d times during one outage, want once", n.name, redisDownLine, c)
			}
		}

		rds.Restart()
		for _, n := range []*cacheNode{na, nb} {
			waitLogCount(t, n, 10*time.Second, redisBackLine, 1)
			waitLogCount(t, n, 10*time.Second, redisResumedLine, resumed[n]+1)
		}
		waitSubscribers(t, rds, 2)
		first := na.get(t, "/after")
		if !first.stored() {
			t.Fatalf("A after recovery: Cache-Status %q, want a stored miss", first.cacheStatus)
		}
		waitInRedis(t, rds, first)
		if got := nb.get(t, "/after"); !got.hit() {
			t.Errorf("B after recovery: Cache-Status %q, want a hit on what A stored", got.cacheStatus)
		}
		if n := originHits(b, "/after"); n != 1 {
			t.Errorf("the backend saw %d requests for /after, want 1", n)
		}
		for _, n := range []*cacheNode{na, nb} {
			if c := len(n.proc.Logs.Match(redisDownLine)); c != 1 {
				t.Errorf("%s logged %q %d times in all, want once", n.name, redisDownLine, c)
			}
		}
	}) {
		return
	}

	t.Run("a body of many chunks", func(t *testing.T) {
		first := na.get(t, "/large")
		if !first.stored() || !bytes.Equal(first.body, large) {
			t.Fatalf("A: Cache-Status %q, %d bytes (the origin's: %v); want a stored miss of the origin's %d bytes",
				first.cacheStatus, len(first.body), bytes.Equal(first.body, large), len(large))
		}
		waitInRedis(t, rds, first)
		if chunks := len(strings.Fields(rds.Do("KEYS", "gh:b:*"))); chunks < largeBodyBytes/(256<<10) {
			t.Errorf("redis holds %d body chunks, want the large body's %d at least", chunks, largeBodyBytes/(256<<10))
		}
		for i := range 2 { // from Redis, then from B's own memory
			got := nb.get(t, "/large")
			if !got.hit() || !bytes.Equal(got.body, large) {
				t.Errorf("B, request %d: Cache-Status %q, %d bytes, identical: %v; want a hit with the origin's bytes",
					i+1, got.cacheStatus, len(got.body), bytes.Equal(got.body, large))
			}
		}
		if n := originHits(b, "/large"); n != 1 {
			t.Errorf("the backend saw %d requests for /large, want 1", n)
		}
	})

	t.Logf("the steps took %v", time.Since(start).Round(time.Millisecond))
	na.stop(t)
	nb.stop(t)
}

// sharedOrigin answers every path with max-age=300; /tagged/ paths carry
// Surrogate-Key "product-7 catalog", and /large is large.
func sharedOrigin(large []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "max-age=300")
		if r.URL.Path == "/large" {
			h.Set("Content-Type", "application/octet-stream")
			w.Write(large)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/tagged/") {
			h.Set("Surrogate-Key", "product-7 catalog")
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "origin says "+r.URL.Path)
	})
}

// originHits counts the requests for path the backend received.
func originHits(b *testkit.Backend, path string) int {
	n := 0
	for _, r := range b.Requests() {
		if r.RequestURI == path {
			n++
		}
	}
	return n
}

// cacheNode is one gatehouse process of the test, with a client of its
// own.
type cacheNode struct {
	name string
	url  string
	proc *testkit.Process
	c    *http.Client
}

// launchCacheNode starts a process with config (its listener on a free
// port) without waiting for it.
func launchCacheNode(t *testing.T, bin, dir, name, config string) *cacheNode {
	t.Helper()
	path := filepath.Join(dir, name+".yaml")
	writeConfig(t, path, config)
	n := &cacheNode{name: name, proc: testkit.StartProcess(t, bin, dir, "run", "-config", path), c: testkit.NewClient()}
	t.Cleanup(n.c.CloseIdleConnections)
	return n
}

// ready waits until n listens.
func (n *cacheNode) ready(t *testing.T) {
	t.Helper()
	n.url = "http://" + n.proc.WaitLog(60*time.Second, "listening").Str("address")
}

// stop ends n with SIGTERM and requires a clean exit.
func (n *cacheNode) stop(t *testing.T) {
	t.Helper()
	n.c.CloseIdleConnections()
	n.proc.Signal(syscall.SIGTERM)
	if code := n.proc.Wait(10 * time.Second); code != 0 {
		t.Errorf("instance %s exited with %d after SIGTERM, want 0", n.name, code)
	}
}

// cacheAnswer is what a GET through one instance got.
type cacheAnswer struct {
	cacheStatus string
	body        []byte
	took        time.Duration
}

func (a cacheAnswer) hit() bool { return strings.Contains(a.cacheStatus, "; hit;") }

func (a cacheAnswer) stored() bool {
	return strings.Contains(a.cacheStatus, "fwd=uri-miss;") && strings.Contains(a.cacheStatus, "; stored")
}

var cacheKeyParam = regexp.MustCompile(`; key="([^"]*)"`)

// key is the cache key Cache-Status names, "" without one.
func (a cacheAnswer) key() string {
	if m := cacheKeyParam.FindStringSubmatch(a.cacheStatus); m != nil {
		return m[1]
	}
	return ""
}

// get sends GET path for sharedHost through n and requires a 200 without
// the origin's purge tags.
func (n *cacheNode) get(t *testing.T, path string) cacheAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, n.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = sharedHost
	start := time.Now()
	res, err := n.c.Do(req)
	if err != nil {
		t.Fatalf("%s: GET %s: %v", n.name, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s: GET %s: reading body: %v", n.name, path, err)
	}
	a := cacheAnswer{cacheStatus: res.Header.Get("Cache-Status"), body: body, took: time.Since(start)}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: GET %s: status %d (Cache-Status %q), want 200", n.name, path, res.StatusCode, a.cacheStatus)
	}
	if v := res.Header.Get("Surrogate-Key"); v != "" {
		t.Errorf("%s: GET %s: the client was sent Surrogate-Key %q, meant for the cache only", n.name, path, v)
	}
	return a
}

// slowRequest is the longest a request may take while Redis is down.
const slowRequest = time.Second

// getQuick is get, failing the test if the answer took slowRequest or
// longer.
func (n *cacheNode) getQuick(t *testing.T, path string) cacheAnswer {
	t.Helper()
	a := n.get(t, path)
	if a.took >= slowRequest {
		t.Errorf("%s: GET %s took %v (Cache-Status %q), want under %v", n.name, path, a.took, a.cacheStatus, slowRequest)
	}
	return a
}

// purge sends PURGE path from 127.0.0.1 (allowed) with header pairs and
// returns the answer's count and scope.
func (n *cacheNode) purge(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("PURGE", n.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = sharedHost
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := n.c.Do(req)
	if err != nil {
		t.Fatalf("%s: PURGE %s: %v", n.name, path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: PURGE %s: status %d: %s", n.name, path, res.StatusCode, body)
	}
	var out struct {
		Purged int    `json:"purged"`
		Scope  string `json:"scope"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: PURGE %s: %v in %q", n.name, path, err, body)
	}
	return out.Purged, out.Scope
}

// warm stores each path through a and has b take it from Redis into its
// memory; it then checks, with the entry hidden from Redis, that b
// answers it from memory alone, so that a later miss on b can only come
// from an invalidation reaching b.
func warm(t *testing.T, rds *testkit.Redis, a, b *cacheNode, paths ...string) {
	t.Helper()
	for _, p := range paths {
		first := a.get(t, p)
		if !first.stored() {
			t.Fatalf("%s: GET %s: Cache-Status %q, want a stored miss", a.name, p, first.cacheStatus)
		}
		index := waitInRedis(t, rds, first)
		if got := b.get(t, p); !got.hit() {
			t.Fatalf("%s: GET %s: Cache-Status %q, want a hit on what %s stored", b.name, p, got.cacheStatus, a.name)
		}
		rds.Do("RENAME", index, index+":hidden")
		got := b.get(t, p)
		rds.Do("RENAME", index+":hidden", index)
		if !got.hit() {
			t.Fatalf("%s: GET %s: Cache-Status %q once Redis lost it, want a hit from its memory", b.name, p, got.cacheStatus)
		}
	}
}

// waitInRedis waits until the key of a stored response has its index in
// Redis, and returns the index's name. An instance commits an entry as
// the body's last bytes go out, so nothing orders the commit before the
// client's next request to another instance.
func waitInRedis(t *testing.T, rds *testkit.Redis, stored cacheAnswer) string {
	t.Helper()
	k := stored.key()
	if k == "" {
		t.Fatalf("Cache-Status %q names no key", stored.cacheStatus)
	}
	index := "gh:k:" + k
	testkit.Eventually(t, 2*time.Second, func() bool { return rds.Do("EXISTS", index) == "1" },
		"no index %q in redis", index)
	return index
}

// waitMiss polls path through n until it is no longer a hit (the
// invalidation published by the other instance arrives asynchronously),
// and requires that answer to be a miss that was stored again.
func waitMiss(t *testing.T, n *cacheNode, path string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := n.get(t, path)
		if !got.hit() {
			if !got.stored() {
				t.Errorf("%s: GET %s after the purge: Cache-Status %q, want a stored miss", n.name, path, got.cacheStatus)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: GET %s is still a hit 2s after the purge: %q", n.name, path, got.cacheStatus)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLogCount waits until n has logged msg want times.
func waitLogCount(t *testing.T, n *cacheNode, timeout time.Duration, msg string, want int) {
	t.Helper()
	testkit.Eventually(t, timeout, func() bool { return len(n.proc.Logs.Match(msg)) >= want },
		"instance %s did not log %q (%d times)", n.name, msg, want)
}

// waitSubscribers waits until n instances listen for invalidations.
func waitSubscribers(t *testing.T, rds *testkit.Redis, n int) {
	t.Helper()
	want := "gh:invalidate " + strconv.Itoa(n)
	testkit.Eventually(t, 10*time.Second, func() bool { return rds.Do("PUBSUB", "NUMSUB", "gh:invalidate") == want },
		"not %d subscribers on gh:invalidate", n)
}
