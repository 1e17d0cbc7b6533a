package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
)

// BenchmarkRedisLatency is what a Redis store adds to a request: the
// latency of one decision (Take, a round trip running the GCRA script)
// against a real redis-server on loopback, with the store's defaults
// (100 ms timeout, go-redis's pool) and a limit that never refuses, as in
// bench/run.sh's redis-limit unit. Besides ns/op it reports the median
// and the 99th percentile of the decisions' durations (p50-us, p99-us).
//
//   - sequential: one decision at a time, the bare round trip;
//   - parallel: GOMAXPROCS goroutines deciding at once;
//   - parallel-x8: 8 goroutines per P, decisions queueing for the
//     pool and the server as under a proxy's many connections;
//   - memory-sequential: the memory store, for scale (over 4,096 client
//     keys: at a decision per 0.2 µs one key would spend its burst of a
//     million, since the rate is at most one per µs).
//
// BenchmarkRedisTake (redis_test.go) is the parallel case without the
// percentiles.
func BenchmarkRedisLatency(b *testing.B) {
	rs := testkit.StartRedis(b)
	s, err := store.NewRedis(store.RedisOptions{Addresses: []string{rs.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := gcra.Per(1_000_000, time.Second, 1_000_000)
	bucket := store.Bucket{Policy: "routes[0]/0", Key: "198.51.100.7"}
	ctx := context.Background()
	if r, err := s.Take(ctx, bucket, l, 1); err != nil || !r.Allowed {
		b.Fatalf("first decision: %+v, %v", r, err) // loads the script, too
	}
	b.Run("sequential", func(b *testing.B) { sequential(b, s, []store.Bucket{bucket}, l) })
	b.Run("parallel", func(b *testing.B) { parallel(b, s, bucket, l, 1) })
	b.Run("parallel-x8", func(b *testing.B) { parallel(b, s, bucket, l, 8) })
	many := make([]store.Bucket, 4096)
	for i := range many {
		many[i] = store.Bucket{Policy: bucket.Policy, Key: fmt.Sprintf("198.51.%d.%d", i/256, i%256)}
	}
	b.Run("memory-sequential", func(b *testing.B) { sequential(b, store.NewMemory(1<<20, nil), many, l) })
}

// sequential decides one at a time, cycling through buckets.
func sequential(b *testing.B, s store.Store, buckets []store.Bucket, l gcra.Limit) {
	ctx := context.Background()
	durs := make([]time.Duration, 0, 1<<16)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		r, err := s.Take(ctx, buckets[i%len(buckets)], l, 1)
		i++
		durs = append(durs, time.Since(t0))
		if err != nil || !r.Allowed {
			b.Fatalf("Take: %+v, %v", r, err)
		}
	}
	reportPercentiles(b, durs)
}

func parallel(b *testing.B, s store.Store, bucket store.Bucket, l gcra.Limit, perP int) {
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(perP)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		durs := make([]time.Duration, 0, 1<<14)
		for pb.Next() {
			t0 := time.Now()
			r, err := s.Take(ctx, bucket, l, 1)
			durs = append(durs, time.Since(t0))
			if err != nil || !r.Allowed {
				b.Errorf("Take: %+v, %v", r, err)
				return
			}
		}
		mu.Lock()
		all = append(all, durs...)
		mu.Unlock()
	})
	reportPercentiles(b, all)
}

// reportPercentiles reports the median and 99th percentile of durs in
// microseconds.
func reportPercentiles(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	at := func(q float64) float64 {
		return float64(durs[min(len(durs)-1, int(q*float64(len(durs))))]) / float64(time.Microsecond)
	}
	b.ReportMetric(at(0.50), "p50-us")
	b.ReportMetric(at(0.99), "p99-us")
}
