package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func newTestRedis(t testing.TB, addr, prefix string, now func() time.Time) *Redis {
	t.Helper()
	r, err := NewRedis(RedisOptions{Address: addr, Prefix: prefix, MaxObjectBytes: testMaxObject, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// rawClient talks to the test server directly.
func rawClient(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisContract(t *testing.T) {
	srv := startRedis(t)
	n := 0
	testStoreContract(t, func(t *testing.T, c *testClock) Store {
		n++
		return newTestRedis(t, srv.addr(), fmt.Sprintf("test%d:", n), c.Now)
	})
}

// Every key the store writes expires on its own, the index and tag sets
// with the latest of their variants.
func TestRedisKeysExpire(t *testing.T) {
	srv := startRedis(t)
	raw := rawClient(t, srv.addr())
	ctx := context.Background()
	r := newTestRedis(t, srv.addr(), "gh:", nil)
	now := time.Now()
	put(t, r, "http://h/a", "x", randomBody(600<<10, 5), Entry{Tags: []string{"t"}, Expires: now.Add(time.Hour)})
	put(t, r, "http://h/a", "y", []byte("y"), Entry{Tags: []string{"t"}, Expires: now.Add(2 * time.Hour)})
	keys, err := raw.Keys(ctx, "gh:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// The index, the tag set, three chunks of x and one of y.
	if len(keys) != 6 {
		t.Fatalf("keys %v", keys)
	}
	for _, k := range keys {
		at, err := raw.PExpireTime(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		got := time.UnixMilli(at.Milliseconds())
		near := func(d time.Duration) bool { return got.Sub(now.Add(d)).Abs() < 10*time.Millisecond }
		if !near(2*time.Hour) && !(strings.HasPrefix(k, "gh:b:") && near(time.Hour)) {
			t.Errorf("%s expires at %v", k, got)
		}
	}
	// Update moves the chunks' expiry with the variant's.
	v := lookup(t, r, "http://h/a")["x"]
	if err := r.Update(ctx, "http://h/a", "x", Entry{Meta: []byte("m"), Expires: now.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		at, _ := raw.PExpireTime(ctx, r.chunkKey(v.Body.(*redisBody).id, i)).Result()
		if d := time.UnixMilli(at.Milliseconds()).Sub(now.Add(3 * time.Hour)).Abs(); d > 10*time.Millisecond {
			t.Errorf("chunk %d expires %v off after update", i, d)
		}
	}
	// A variant whose chunks are gone is dropped by Update.
	raw.Del(ctx, r.chunkKey(v.Body.(*redisBody).id, 1))
	if err := r.Update(ctx, "http://h/a", "x", Entry{Meta: []byte("m"), Expires: now.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if vs := lookup(t, r, "http://h/a"); len(vs) != 1 || vs["y"].Body == nil {
		t.Errorf("after updating a broken variant: %v", vs)
	}
	if typ, _ := raw.Type(ctx, "gh:k:http://h/a").Result(); typ != "hash" {
		t.Errorf("index is a %s", typ)
	}
	if m, _ := raw.SMembers(ctx, "gh:t:t").Result(); len(m) != 1 || m[0] != "http://h/a" {
		t.Errorf("tag set %v", m)
	}
}

// A replaced body's chunks are retired, not deleted: a reader that looked
// it up before the replacement still reads it whole.
func TestRedisReplacedBodyStaysReadable(t *testing.T) {
	srv := startRedis(t)
	raw := rawClient(t, srv.addr())
	ctx := context.Background()
	r := newTestRedis(t, srv.addr(), "gh:", nil)
	old := randomBody(700<<10, 6)
	exp := time.Now().Add(time.Hour)
	put(t, r, "k", "", old, Entry{Expires: exp})
	v := lookup(t, r, "k")[""]
	put(t, r, "k", "", []byte("new"), Entry{Expires: exp})
	if !bytes.Equal(readBody(t, v), old) {
		t.Fatal("the replaced body changed")
	}
	ttl, err := raw.PTTL(ctx, r.chunkKey(v.Body.(*redisBody).id, 0)).Result()
	if err != nil || ttl <= 0 || ttl > retireGrace {
		t.Fatalf("retired chunk's TTL %v, %v", ttl, err)
	}
}

// A body whose chunks vanish while it is read fails with ErrBodyGone
// after a part of it was written.
func TestRedisChunksVanishMidRead(t *testing.T) {
	srv := startRedis(t)
	raw := rawClient(t, srv.addr())
	ctx := context.Background()
	r := newTestRedis(t, srv.addr(), "gh:", nil)
	body := randomBody(5<<20, 7)
	put(t, r, "k", "", body, Entry{Expires: time.Now().Add(time.Hour)})
	v := lookup(t, r, "k")[""]
	b := v.Body.(*redisBody)
	if b.chunks != 20 {
		t.Fatalf("%d chunks of 256 KiB for 5 MiB", b.chunks)
	}
	w := &hookWriter{after: 1, hook: func() {
		for i := range b.chunks {
			raw.Del(ctx, r.chunkKey(b.id, i))
		}
	}}
	n, err := v.Body.WriteTo(ctx, w)
	if !errors.Is(err, ErrBodyGone) {
		t.Fatalf("err %v", err)
	}
	if n == 0 || n >= int64(len(body)) || !bytes.Equal(w.buf.Bytes(), body[:n]) {
		t.Fatalf("wrote %d of %d bytes", n, len(body))
	}
}

// hookWriter runs hook once, after its first `after` writes.
type hookWriter struct {
	buf   bytes.Buffer
	after int
	hook  func()
}

func (w *hookWriter) Write(p []byte) (int, error) {
	w.after--
	if w.after == 0 {
		w.hook()
	}
	return w.buf.Write(p)
}

// A dead server fails every operation within the timeout, and the store
// works again once it is back.
func TestRedisOutageFailsFast(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	r := newTestRedis(t, srv.addr(), "gh:", nil)
	put(t, r, "k", "", []byte("x"), Entry{Expires: time.Now().Add(time.Hour)})
	v := lookup(t, r, "k")[""]
	srv.kill()
	start := time.Now()
	if _, err := r.Lookup(ctx, "k"); err == nil {
		t.Fatal("lookup on a dead server did not fail")
	}
	if _, err := v.Body.WriteTo(ctx, &bytes.Buffer{}); err == nil || errors.Is(err, ErrBodyGone) {
		t.Fatalf("read on a dead server: %v", err)
	}
	w, err := r.Create(ctx, "k2", "", Entry{Expires: time.Now().Add(time.Hour)}, -1)
	if err != nil {
		t.Fatal(err)
	}
	_, werr := w.Write(make([]byte, 300<<10))
	if werr == nil {
		werr = w.Commit(ctx)
	} else {
		w.Abort()
	}
	if werr == nil {
		t.Fatal("a write to a dead server did not fail")
	}
	if _, err := r.PurgeTag(ctx, "t"); err == nil {
		t.Fatal("purge on a dead server did not fail")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("failing took %v", d)
	}
	srv.restart()
	put(t, r, "k", "", []byte("back"), Entry{Expires: time.Now().Add(time.Hour)})
	if got, _ := bodyOf(t, r, "k", ""); got != "back" {
		t.Fatalf("after restart: %q", got)
	}
}

func TestRedisOptions(t *testing.T) {
	if _, err := NewRedis(RedisOptions{}); err == nil {
		t.Error("no address accepted")
	}
	if _, err := NewRedis(RedisOptions{Address: "nohost"}); err == nil {
		t.Error("address without port accepted")
	}
	r, err := NewRedis(RedisOptions{Address: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.prefix != "gatehouse:cache:" || r.timeout != 200*time.Millisecond || r.chunk != 256<<10 || r.MaxObjectBytes() != 64<<20 {
		t.Errorf("defaults %+v", r)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	h := header{expires: time.UnixMilli(1700000000123), bodyID: strings.Repeat("ab", 16), chunks: 3, size: 700000,
		tags: []string{"a", "", "ünï code"}, meta: []byte{0, 1, 2}}
	s, err := h.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeHeader(s)
	if err != nil {
		t.Fatal(err)
	}
	if !got.expires.Equal(h.expires) || got.bodyID != h.bodyID || got.chunks != 3 || got.size != 700000 ||
		fmt.Sprint(got.tags) != fmt.Sprint(h.tags) || !bytes.Equal(got.meta, h.meta) {
		t.Fatalf("got %+v, want %+v", got, h)
	}
	for _, bad := range []string{"", "2" + s[1:], s[:50], s[:headerFixed] + "00"} {
		if _, err := decodeHeader(bad); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}

func TestGlobEscape(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/a":  "http://h/a",
		`a*b?c[d]e\f`: `a\*b\?c\[d\]e\\f`,
	} {
		if got := globEscape(in); got != want {
			t.Errorf("globEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

// blackhole accepts connections and never answers, like a server that
// hangs or a network that drops packets.
func blackhole(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { _ = l.Close(); conns.Wait() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() })
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	return l.Addr().String()
}

// A server that does not answer costs an operation its timeout, no more.
func TestRedisHangingServerTimesOut(t *testing.T) {
	ctx := context.Background()
	r := newTestRedis(t, blackhole(t), "gh:", nil)
	start := time.Now()
	if _, err := r.Lookup(ctx, "k"); err == nil {
		t.Fatal("lookup did not fail")
	}
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Fatalf("lookup took %v with a 200 ms timeout", d)
	}

	s := NewTiered(NewMemory(MemoryOptions{}), newTestRedis(t, blackhole(t), "gh:", nil), nil)
	defer s.Close()
	put(t, s, "k", "", []byte("x"), Entry{Expires: time.Now().Add(time.Hour)})
	start = time.Now()
	for i := range 100 {
		if vs, err := s.Lookup(ctx, fmt.Sprint("missing", i)); err != nil || len(vs) != 0 {
			t.Fatal(vs, err)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond || !s.Stats().Degraded {
		t.Fatalf("100 lookups took %v, stats %+v", d, s.Stats())
	}
	if got, _ := bodyOf(t, s, "k", ""); got != "x" {
		t.Fatalf("memory copy: %q", got)
	}
}
