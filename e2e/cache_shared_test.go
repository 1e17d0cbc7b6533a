package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
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
// recovery), and a body of many chunks comes back byte for byte. Each
// step builds on the state the previous ones left, so the first to fail
// ends the test.
//
// Not parallel: it times requests against a bound, which other tests
// sharing the CPU would make meaningless.
func TestCacheSharedAcrossInstances(t *testing.T) {
	s := startSharedCache(t)
	start := time.Now()
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"stored through A, a hit through B", s.sharedHit},
		{"purge of a URL through A reaches B", s.purgeURL},
		{"purge of a prefix through A reaches B", s.purgePrefix},
		{"purge of a surrogate key through A reaches B", s.purgeTag},
		{"redis down: both serve from memory", s.redisDown},
		{"redis back: both share again", s.redisBack},
		{"a body of many chunks", s.largeBody},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
	t.Logf("the steps took %v", time.Since(start).Round(time.Millisecond))
	s.a.stop(t)
	s.b.stop(t)
}

// sharedCache is the test's world: Redis, the backend and the two
// instances, a and b.
type sharedCache struct {
	rds    *testkit.Redis
	origin *testkit.Backend
	a, b   *instance
	large  []byte // the body of /large
	// resumed counts each instance's redisResumedLine before the outage.
	resumed map[*instance]int
}

// startSharedCache starts Redis, the backend and both instances, and
// returns once both listen for invalidations.
func startSharedCache(t *testing.T) *sharedCache {
	t.Helper()
	s := &sharedCache{rds: testkit.StartRedis(t), large: make([]byte, largeBodyBytes), resumed: map[*instance]int{}}
	rand.NewChaCha8([32]byte{7}).Read(s.large)
	s.origin = testkit.NewBackend(t, "origin", sharedOrigin(s.large))
	bin, dir := testkit.TestBinary(t), t.TempDir()
	config := strings.NewReplacer("%REDIS%", s.rds.Addr(), "%B%", s.origin.URL).Replace(sharedCacheConfig)
	s.a, s.b = launchInstance(t, bin, dir, "a", config), launchInstance(t, bin, dir, "b", config)
	s.a.ready(t)
	s.b.ready(t)
	waitSubscribers(t, s.rds, 2)
	return s
}

func (s *sharedCache) nodes() []*instance { return []*instance{s.a, s.b} }

// wantOriginHits fails t unless the backend saw n requests for path.
func (s *sharedCache) wantOriginHits(t *testing.T, path string, n int) {
	t.Helper()
	if got := originHits(s.origin, path); got != n {
		t.Errorf("the backend saw %d requests for %s, want %d", got, path, n)
	}
}

func (s *sharedCache) sharedHit(t *testing.T) {
	first := s.a.get(t, "/page")
	if !first.stored() {
		t.Fatalf("A: Cache-Status %q, want a stored miss", first.cacheStatus)
	}
	waitInRedis(t, s.rds, first)
	got := s.b.get(t, "/page")
	if !got.hit() || string(got.body) != "origin says /page" {
		t.Errorf("B: Cache-Status %q, body %q; want a hit with the origin's body", got.cacheStatus, got.body)
	}
	s.wantOriginHits(t, "/page", 1)
}

func (s *sharedCache) purgeURL(t *testing.T) {
	warm(t, s.rds, s.a, s.b, "/item", "/item?color=red")
	if n, scope := s.a.purge(t, "/item"); n != 1 || scope != "url" {
		t.Errorf("PURGE /item: purged %d, scope %q; want 1, url", n, scope)
	}
	waitMiss(t, s.b, "/item")
	s.wantOriginHits(t, "/item", 2) // A's miss, and B's after the purge
	if got := s.b.get(t, "/item?color=red"); !got.hit() {
		t.Errorf("B: /item?color=red is another URL but Cache-Status is %q", got.cacheStatus)
	}
}

func (s *sharedCache) purgePrefix(t *testing.T) {
	warm(t, s.rds, s.a, s.b, "/dir/1", "/dir/2", "/dirt")
	if n, scope := s.a.purge(t, "/dir/*"); n != 2 || scope != "prefix" {
		t.Errorf("PURGE /dir/*: purged %d, scope %q; want 2, prefix", n, scope)
	}
	waitMiss(t, s.b, "/dir/1")
	waitMiss(t, s.b, "/dir/2")
	if got := s.b.get(t, "/dirt"); !got.hit() {
		t.Errorf("B: /dirt is outside /dir/ but Cache-Status is %q", got.cacheStatus)
	}
}

func (s *sharedCache) purgeTag(t *testing.T) {
	warm(t, s.rds, s.a, s.b, "/tagged/1", "/tagged/2", "/untagged")
	if n, scope := s.a.purge(t, "/", "Surrogate-Key", "product-7"); n != 2 || scope != "tag" {
		t.Errorf("PURGE with Surrogate-Key product-7: purged %d, scope %q; want 2, tag", n, scope)
	}
	waitMiss(t, s.b, "/tagged/1")
	waitMiss(t, s.b, "/tagged/2")
	if got := s.b.get(t, "/untagged"); !got.hit() {
		t.Errorf("B: /untagged has no tag but Cache-Status is %q", got.cacheStatus)
	}
}

// redisDown kills Redis and sends each instance, ten times over, a
// request it holds in memory (a hit) and one it does not (a miss that the
// backend answers), each quick; each instance logs the outage once.
func (s *sharedCache) redisDown(t *testing.T) {
	warm(t, s.rds, s.a, s.b, "/held")
	for _, n := range s.nodes() {
		s.resumed[n] = len(n.proc.Logs.Match(redisResumedLine))
	}
	s.rds.Kill()
	var slowest time.Duration
	for round := range 10 {
		for _, n := range s.nodes() {
			held := n.getQuick(t, "/held")
			if !held.hit() {
				t.Errorf("%s round %d: /held is in its memory but Cache-Status is %q", n.name, round, held.cacheStatus)
			}
			path := "/outage/" + n.name + "/" + strconv.Itoa(round)
			miss := n.getQuick(t, path)
			if miss.hit() {
				t.Errorf("%s: %s was never fetched but is a hit", n.name, path)
			}
			s.wantOriginHits(t, path, 1)
			slowest = max(slowest, held.took, miss.took)
		}
	}
	t.Logf("with redis down, the slowest of %d requests took %v", 2*10*len(s.nodes()), slowest)
	for _, n := range s.nodes() {
		waitLogCount(t, n, 5*time.Second, redisDownLine, 1)
		if c := len(n.proc.Logs.Match(redisDownLine)); c != 1 {
			t.Errorf("%s logged %q %d times during one outage, want once", n.name, redisDownLine, c)
		}
	}
}

// redisBack restarts Redis (empty, on its port): both instances log the
// recovery and subscribe again, and what A stores then is a hit on B.
func (s *sharedCache) redisBack(t *testing.T) {
	s.rds.Restart()
	for _, n := range s.nodes() {
		waitLogCount(t, n, 10*time.Second, redisBackLine, 1)
		waitLogCount(t, n, 10*time.Second, redisResumedLine, s.resumed[n]+1)
	}
	waitSubscribers(t, s.rds, 2)
	first := s.a.get(t, "/after")
	if !first.stored() {
		t.Fatalf("A after recovery: Cache-Status %q, want a stored miss", first.cacheStatus)
	}
	waitInRedis(t, s.rds, first)
	if got := s.b.get(t, "/after"); !got.hit() {
		t.Errorf("B after recovery: Cache-Status %q, want a hit on what A stored", got.cacheStatus)
	}
	s.wantOriginHits(t, "/after", 1)
	for _, n := range s.nodes() {
		if c := len(n.proc.Logs.Match(redisDownLine)); c != 1 {
			t.Errorf("%s logged %q %d times in all, want once", n.name, redisDownLine, c)
		}
	}
}

// largeBody stores a body of many Redis chunks through A and reads it
// twice through B: from Redis, then from B's memory.
func (s *sharedCache) largeBody(t *testing.T) {
	first := s.a.get(t, "/large")
	if !first.stored() || !bytes.Equal(first.body, s.large) {
		t.Fatalf("A: Cache-Status %q, %d bytes (the origin's: %v); want a stored miss of the origin's %d bytes",
			first.cacheStatus, len(first.body), bytes.Equal(first.body, s.large), len(s.large))
	}
	waitInRedis(t, s.rds, first)
	const chunks = largeBodyBytes / (256 << 10) // the Redis store's default chunk size
	if n := len(strings.Fields(s.rds.Do("KEYS", "gh:b:*"))); n < chunks {
		t.Errorf("redis holds %d body chunks, want the large body's %d at least", n, chunks)
	}
	for i := range 2 {
		got := s.b.get(t, "/large")
		if !got.hit() || !bytes.Equal(got.body, s.large) {
			t.Errorf("B, request %d: Cache-Status %q, %d bytes, identical: %v; want a hit with the origin's bytes",
				i+1, got.cacheStatus, len(got.body), bytes.Equal(got.body, s.large))
		}
	}
	s.wantOriginHits(t, "/large", 1)
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

// cacheAnswer is what a GET through one instance got.
type cacheAnswer struct {
	cacheStatus string
	body        []byte
	took        time.Duration
}

func (a cacheAnswer) hit() bool { return strings.Contains(a.cacheStatus, "; hit;") }

// stored: a miss the cache is storing. Without a Content-Length (the
// large body is chunked) it can only say it is storing it.
func (a cacheAnswer) stored() bool {
	return strings.Contains(a.cacheStatus, "fwd=uri-miss;") &&
		(strings.Contains(a.cacheStatus, "; stored") || strings.Contains(a.cacheStatus, "; detail=storing"))
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
func (n *instance) get(t *testing.T, path string) cacheAnswer {
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
func (n *instance) getQuick(t *testing.T, path string) cacheAnswer {
	t.Helper()
	a := n.get(t, path)
	if a.took >= slowRequest {
		t.Errorf("%s: GET %s took %v (Cache-Status %q), want under %v", n.name, path, a.took, a.cacheStatus, slowRequest)
	}
	return a
}

// purge sends PURGE path from 127.0.0.1 (allowed) with header pairs and
// returns the answer's count and scope.
func (n *instance) purge(t *testing.T, path string, header ...string) (int, string) {
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
func warm(t *testing.T, rds *testkit.Redis, a, b *instance, paths ...string) {
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
func waitMiss(t *testing.T, n *instance, path string) {
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
func waitLogCount(t *testing.T, n *instance, timeout time.Duration, msg string, want int) {
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
