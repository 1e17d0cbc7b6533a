package store_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
)

func newRedisStore(t *testing.T, addr string) *store.Redis {
	t.Helper()
	s, err := store.NewRedis(store.RedisOptions{Addresses: []string{addr}, Prefix: "test:rl:", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The Lua script decides as gcra.Decide does.
func TestRedisDecides(t *testing.T) {
	rs := testkit.StartRedis(t)
	s := newRedisStore(t, rs.Addr())
	ctx := context.Background()
	l := gcra.Per(10, time.Hour, 3) // nothing comes back during the test
	b := store.Bucket{"routes[0]/0", "203.0.113.9"}
	for i := range 3 {
		r, err := s.Take(ctx, b, l, 1)
		if err != nil || !r.Allowed || r.Remaining != int64(2-i) {
			t.Fatalf("spend %d: %+v, %v", i, r, err)
		}
		if want := time.Duration(i+1) * 6 * time.Minute; r.Reset > want || r.Reset < want-time.Second {
			t.Errorf("spend %d: Reset %v, want about %v", i, r.Reset, want)
		}
	}
	r, err := s.Take(ctx, b, l, 1)
	if err != nil || r.Allowed || r.RetryAfter <= 5*time.Minute || r.RetryAfter > 6*time.Minute {
		t.Errorf("4th spend: %+v, %v; want denied for about 6 minutes", r, err)
	}
	if r, _ := s.Take(ctx, b, l, 4); r.Allowed || r.RetryAfter != l.Window() {
		t.Errorf("a spend over the burst: %+v, want denied for the window", r)
	}
	if r, _ := s.Take(ctx, store.Bucket{"routes[0]/0", strings.Repeat("k", 500)}, l, 1); !r.Allowed {
		t.Errorf("a long key value: %+v, want its own allowance", r)
	}
	// The key expires once the allowance would be full.
	ttl := rs.Do("PTTL", "test:rl:"+b.Policy+"\x00="+b.Key) // prefix, policy, NUL, "=" and the key value
	if !strings.HasPrefix(ttl, "1") || len(ttl) != len("1080000") {
		t.Errorf("PTTL of the bucket = %s, want about 1080000 (18 minutes)", ttl)
	}
}

// Two stores (two Gatehouse processes) on one server enforce one limit.
func TestRedisShared(t *testing.T) {
	rs := testkit.StartRedis(t)
	stores := []*store.Redis{newRedisStore(t, rs.Addr()), newRedisStore(t, rs.Addr())}
	l := gcra.Per(100, time.Hour, 100)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				r, err := stores[g%2].Take(context.Background(), store.Bucket{"p", "shared"}, l, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Errorf("400 spends through two stores on a burst of 100 admitted %d", n)
	}
}

// A Redis that is gone fails fast with an error, and the store recovers
// when it is back.
func TestRedisOutage(t *testing.T) {
	rs := testkit.StartRedis(t)
	s := newRedisStore(t, rs.Addr())
	l := gcra.Per(10, time.Second, 10)
	b := store.Bucket{"p", "k"}
	if _, err := s.Take(context.Background(), b, l, 1); err != nil {
		t.Fatal(err)
	}
	rs.Kill()
	start := time.Now()
	if _, err := s.Take(context.Background(), b, l, 1); err == nil {
		t.Error("a decision with Redis down did not fail")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a decision with Redis down took %v, want it bounded by the 200ms timeout", took)
	}
	rs.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := s.Take(context.Background(), b, l, 1)
		if err == nil {
			if !r.Allowed || r.Remaining != 9 {
				t.Errorf("after the restart (Redis empty): %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover within 5s of Redis's restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkRedisTake(b *testing.B) {
	rs := testkit.StartRedis(b)
	s, err := store.NewRedis(store.RedisOptions{Addresses: []string{rs.Addr()}, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := gcra.Per(1_000_000, time.Second, 1_000_000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Take(context.Background(), store.Bucket{"routes[0]/0", "198.51.100.7"}, l, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
