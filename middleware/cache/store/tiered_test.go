package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuf collects a logger's lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func newTestTiered(t testing.TB, addr, prefix string, c *testClock, log *slog.Logger) *Tiered {
	t.Helper()
	now := time.Now
	if c != nil {
		now = c.Now
	}
	m := NewMemory(MemoryOptions{MaxBytes: 256 << 20, MaxObjectBytes: testMaxObject, Now: now})
	r, err := NewRedis(RedisOptions{Address: addr, Prefix: prefix, MaxObjectBytes: testMaxObject, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	s := NewTiered(m, r, log)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// eventually fails the test unless cond holds within d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSubscribed waits until n instances listen on prefix's channel.
func waitSubscribed(t testing.TB, addr, prefix string, n int64) {
	t.Helper()
	raw := rawClient(t, addr)
	eventually(t, 5*time.Second, "instances subscribed", func() bool {
		m, err := raw.PubSubNumSub(context.Background(), prefix+"invalidate").Result()
		return err == nil && m[prefix+"invalidate"] == n
	})
}

func TestTieredContract(t *testing.T) {
	srv := startRedis(t)
	n := 0
	testStoreContract(t, func(t *testing.T, c *testClock) Store {
		n++
		return newTestTiered(t, srv.addr(), fmt.Sprintf("tiered%d:", n), c, nil)
	})
}

// A second instance finds in Redis what the first stored, and keeps a
// copy in its memory once it has read it.
func TestTieredSharedThroughRedis(t *testing.T) {
	srv := startRedis(t)
	a := newTestTiered(t, srv.addr(), "gh:", nil, nil)
	b := newTestTiered(t, srv.addr(), "gh:", nil, nil)
	body := randomBody(1<<20, 8)
	put(t, a, "http://h/x", "gzip", body, Entry{Meta: []byte("m"), Tags: []string{"t"}, Expires: time.Now().Add(time.Hour)})

	v, ok := lookup(t, b, "http://h/x")["gzip"]
	if !ok || b.Stats().RedisHits != 1 {
		t.Fatalf("second instance: %v, stats %+v", ok, b.Stats())
	}
	if len(lookup(t, b.front, "http://h/x")) != 0 {
		t.Fatal("promoted before it was read")
	}
	if !bytes.Equal(readBody(t, v), body) {
		t.Fatal("body through redis differs")
	}
	if b.Stats().Promotions != 1 {
		t.Fatalf("stats %+v", b.Stats())
	}
	mv, ok := lookup(t, b, "http://h/x")["gzip"]
	if !ok || b.Stats().MemoryHits != 1 || string(mv.Meta) != "m" || mv.Tags[0] != "t" {
		t.Fatalf("after promotion: %v %+v", ok, b.Stats())
	}
	if !bytes.Equal(readBody(t, mv), body) {
		t.Fatal("promoted body differs")
	}
	if lookup(t, a, "http://h/x"); a.Stats().MemoryHits != 1 || a.Stats().RedisHits != 0 {
		t.Fatalf("writer's own lookup: %+v", a.Stats())
	}
}

// A delete or purge on one instance reaches the other's memory.
func TestTieredInvalidationReachesOtherInstances(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	a := newTestTiered(t, srv.addr(), "gh:", nil, nil)
	b := newTestTiered(t, srv.addr(), "gh:", nil, nil)
	waitSubscribed(t, srv.addr(), "gh:", 2)
	exp := time.Now().Add(time.Hour)
	keys := map[string][]string{"k1": nil, "k2": {"tag"}, "p/1": nil, "p/2": nil, "keep": nil}
	for k, tags := range keys {
		put(t, a, k, "", []byte(k), Entry{Tags: tags, Expires: exp})
		readBody(t, lookup(t, b, k)[""]) // promotes into b's memory
		if len(lookup(t, b.front, k)) != 1 {
			t.Fatalf("%s not in b's memory", k)
		}
	}
	gone := func(k string) func() bool {
		return func() bool { return len(lookup(t, b.front, k)) == 0 }
	}
	_ = a.Delete(ctx, "k1")
	eventually(t, 2*time.Second, "delete reaches b", gone("k1"))
	if n, _ := a.PurgeTag(ctx, "tag"); n != 1 {
		t.Errorf("purge tag: %d", n)
	}
	eventually(t, 2*time.Second, "purge tag reaches b", gone("k2"))
	if n, _ := a.PurgePrefix(ctx, "p/"); n != 2 {
		t.Errorf("purge prefix: %d", n)
	}
	eventually(t, 2*time.Second, "purge prefix reaches b", func() bool { return gone("p/1")() && gone("p/2")() })
	if len(lookup(t, b, "k1")) != 0 || len(lookup(t, b, "p/2")) != 0 {
		t.Error("redis still has what was purged")
	}
	if len(lookup(t, b.front, "keep")) != 1 {
		t.Error("an untouched key was dropped")
	}
	if sa, sb := a.Stats(), b.Stats(); sa.InvalidationsSent != 3 || sb.InvalidationsReceived != 3 || sa.InvalidationsReceived != 0 {
		t.Errorf("stats a %+v, b %+v", sa, sb)
	}
}

// With redis-server killed, both instances serve from memory without an
// error, log the outage once, and come back when it is restarted.
func TestTieredSurvivesRedisOutage(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	var la, lb logBuf
	a := newTestTiered(t, srv.addr(), "gh:", nil, la.logger())
	b := newTestTiered(t, srv.addr(), "gh:", nil, lb.logger())
	waitSubscribed(t, srv.addr(), "gh:", 2)
	exp := time.Now().Add(time.Hour)
	put(t, a, "k", "", []byte("shared"), Entry{Expires: exp})
	readBody(t, lookup(t, b, "k")[""])

	srv.kill()
	for _, s := range []*Tiered{a, b} {
		if got, ok := bodyOf(t, s, "k", ""); !ok || got != "shared" {
			t.Fatalf("memory copy during outage: %q %v", got, ok)
		}
		if vs, err := s.Lookup(ctx, "missing"); err != nil || len(vs) != 0 {
			t.Fatalf("lookup of a missing key: %v %v", vs, err)
		}
		put(t, s, "during", "", []byte("written during the outage"), Entry{Expires: exp})
		if got, _ := bodyOf(t, s, "during", ""); got != "written during the outage" {
			t.Fatalf("write during outage: %q", got)
		}
		if err := s.Delete(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		if !s.Stats().Degraded || s.Stats().RedisErrors == 0 {
			t.Fatalf("stats during outage: %+v", s.Stats())
		}
	}
	// Degraded, a request makes no Redis call.
	start := time.Now()
	for i := range 200 {
		_, _ = b.Lookup(ctx, fmt.Sprint("missing", i))
		put(t, b, fmt.Sprint("w", i), "", []byte("x"), Entry{Expires: exp})
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("200 lookups and writes while degraded took %v", d)
	}
	errs := b.Stats().RedisErrors
	time.Sleep(50 * time.Millisecond)
	if b.Stats().RedisErrors != errs {
		t.Error("errors still counted while degraded")
	}

	srv.restart()
	for _, s := range []*Tiered{a, b} {
		eventually(t, 5*time.Second, "recovery", func() bool { return !s.Stats().Degraded })
	}
	for _, l := range []*logBuf{&la, &lb} {
		if n := l.count("redis unavailable, serving from memory only"); n != 1 {
			t.Errorf("%d outage warnings, want 1", n)
		}
		if n := l.count("redis available again"); n != 1 {
			t.Errorf("%d recovery lines, want 1", n)
		}
	}
	waitSubscribed(t, srv.addr(), "gh:", 2)
	put(t, a, "after", "", []byte("after"), Entry{Expires: exp})
	if got, _ := bodyOf(t, b, "after", ""); got != "after" {
		t.Fatalf("sharing after recovery: %q", got)
	}
	_ = a.Delete(ctx, "after")
	eventually(t, 2*time.Second, "invalidation after recovery", func() bool { return len(lookup(t, b.front, "after")) == 0 })
}

// A delete made while Redis was down reaches Redis once it is back.
func TestTieredReplaysInvalidations(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	raw := rawClient(t, srv.addr())
	a := newTestTiered(t, srv.addr(), "gh:", nil, nil)
	exp := time.Now().Add(time.Hour)
	put(t, a, "del", "", []byte("x"), Entry{Expires: exp})
	put(t, a, "keep", "", []byte("x"), Entry{Expires: exp})
	if err := raw.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.kill()
	_, _ = a.Lookup(ctx, "missing") // notices the outage
	if !a.Stats().Degraded {
		t.Fatal("not degraded")
	}
	_ = a.Delete(ctx, "del")
	srv.start() // loads the snapshot: both keys are back
	eventually(t, 5*time.Second, "recovery", func() bool { return !a.Stats().Degraded })
	if n, _ := raw.Exists(ctx, "gh:k:del").Result(); n != 0 {
		t.Error("the delete made during the outage did not reach redis")
	}
	if n, _ := raw.Exists(ctx, "gh:k:keep").Result(); n != 1 {
		t.Error("the snapshot was not loaded")
	}
}

// Close stops every goroutine the stores started.
func TestTieredCloseLeaksNoGoroutine(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	before := runtime.NumGoroutine()
	var stores []*Tiered
	for range 2 {
		m := NewMemory(MemoryOptions{})
		r, err := NewRedis(RedisOptions{Address: srv.addr(), Prefix: "gh:"})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, NewTiered(m, r, nil))
	}
	waitSubscribed(t, srv.addr(), "gh:", 2)
	put(t, stores[0], "k", "", randomBody(1<<20, 9), Entry{Expires: time.Now().Add(time.Hour)})
	readBody(t, lookup(t, stores[1], "k")[""])
	_ = stores[0].Delete(ctx, "k")
	for _, s := range stores {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "goroutines stop", func() bool { return runtime.NumGoroutine() <= before })
}
