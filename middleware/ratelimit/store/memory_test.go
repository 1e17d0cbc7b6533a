package store

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
)

var tenPerSecond = gcra.Per(10, time.Second, 10)

const sec = int64(time.Second)

func TestMemoryDecides(t *testing.T) {
	m := NewMemory(1000, nil)
	now := int64(1_700_000_000) * sec
	a, b := Bucket{"r0", "10.0.0.1"}, Bucket{"r0", "10.0.0.2"}
	for i := range 10 {
		if r := m.TakeAt(a, tenPerSecond, 1, now); !r.Allowed || r.Remaining != int64(9-i) {
			t.Fatalf("spend %d: %+v", i, r)
		}
	}
	if r := m.TakeAt(a, tenPerSecond, 1, now); r.Allowed || r.RetryAfter != 100*time.Millisecond {
		t.Errorf("11th spend: %+v, want denied for 100ms", r)
	}
	if r := m.TakeAt(b, tenPerSecond, 1, now); !r.Allowed || r.Remaining != 9 {
		t.Errorf("another key: %+v, want its own full allowance", r)
	}
	if r := m.TakeAt(Bucket{"r1", "10.0.0.1"}, tenPerSecond, 1, now); !r.Allowed {
		t.Errorf("the same key under another policy: %+v, want its own allowance", r)
	}
	// Policy and key are separated: "r0"+"x" is not "r"+"0x".
	m.TakeAt(Bucket{"p", "ab"}, gcra.Per(1, time.Hour, 1), 1, now)
	if r := m.TakeAt(Bucket{"pa", "b"}, gcra.Per(1, time.Hour, 1), 1, now); !r.Allowed {
		t.Error("buckets whose policy and key concatenate alike share state")
	}
	if r := m.TakeAt(a, tenPerSecond, 1, now+100*int64(time.Millisecond)); !r.Allowed {
		t.Errorf("after one interval: %+v, want allowed", r)
	}
}

func TestMemoryDeniedSpendStoresNothing(t *testing.T) {
	m := NewMemory(1000, nil)
	m.TakeAt(Bucket{"p", "k"}, gcra.Per(1, time.Hour, 1), 2, 0) // larger than the burst
	if n := m.Len(); n != 0 {
		t.Errorf("a denied first spend stored %d buckets", n)
	}
}

func TestMemoryBounded(t *testing.T) {
	const max = shardCount * 4
	m := NewMemory(max, nil)
	now := int64(1_700_000_000) * sec
	slow := gcra.Per(1, time.Hour, 5)
	for i := range max * 3 {
		m.TakeAt(Bucket{"p", strconv.Itoa(i)}, slow, 1, now)
	}
	if n := m.Len(); n > max {
		t.Errorf("%d buckets held, want at most %d", n, max)
	}
}

// A full shard drops the key whose allowance is nearest to full (here
// already full again), never a live one.
func TestMemoryEvictsColdest(t *testing.T) {
	m := NewMemory(2*shardCount, nil) // two keys per shard
	now := int64(1_700_000_000) * sec
	// Three buckets of one shard.
	byShard := map[uint64][]Bucket{}
	var bs []Bucket
	for i := 0; bs == nil; i++ {
		b := Bucket{"p", strconv.Itoa(i)}
		sh := m.hash(b) >> 56
		if byShard[sh] = append(byShard[sh], b); len(byShard[sh]) == 3 {
			bs = byShard[sh]
		}
	}
	hour := gcra.Per(1, time.Hour, 1)
	m.TakeAt(bs[0], gcra.Per(1, time.Second, 1), 1, now) // full again at now+1s
	m.TakeAt(bs[1], hour, 1, now)
	m.TakeAt(bs[2], hour, 1, now+2*sec) // the shard is full: one must go
	for _, b := range bs[1:] {
		if r := m.TakeAt(b, hour, 1, now+2*sec); r.Allowed {
			t.Errorf("%v lost its state to make room, while a key with a full allowance was held", b)
		}
	}
}

func TestMemorySweep(t *testing.T) {
	var clock atomic.Int64
	clock.Store(1_700_000_000 * sec)
	m := NewMemory(10000, func() time.Time { return time.Unix(0, clock.Load()) })
	for i := range 100 {
		m.Take(context.Background(), Bucket{"short", strconv.Itoa(i)}, gcra.Per(1, time.Second, 1), 1)
		m.Take(context.Background(), Bucket{"long", strconv.Itoa(i)}, gcra.Per(1, time.Hour, 1), 1)
	}
	clock.Add(2 * sec)
	m.Sweep()
	if n := m.Len(); n != 100 {
		t.Errorf("after a sweep %d buckets remain, want the 100 whose allowance is not yet full", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx, time.Millisecond); close(done) }()
	clock.Add(2 * int64(time.Hour))
	deadline := time.Now().Add(5 * time.Second)
	for m.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if n := m.Len(); n != 0 {
		t.Errorf("Run left %d passed buckets", n)
	}
}

// Concurrent spends on one bucket admit exactly the burst: no spend is
// lost or counted twice.
func TestMemoryConcurrent(t *testing.T) {
	m := NewMemory(1000, nil)
	l := gcra.Per(1000, time.Hour, 1000) // refills 1 per 3.6s: nothing comes back during the test
	var wg sync.WaitGroup
	var allowed atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				if r, _ := m.Take(context.Background(), Bucket{"p", "one"}, l, 1); r.Allowed {
					allowed.Add(1)
				}
				m.Take(context.Background(), Bucket{"p", fmt.Sprint(g)}, l, 1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 1000 {
		t.Errorf("4000 concurrent spends on a burst of 1000 admitted %d", n)
	}
}

func BenchmarkMemoryTake(b *testing.B) {
	m := NewMemory(1<<20, nil)
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("198.51.100.%d/%d", i%256, i)
	}
	l := gcra.Per(1_000_000, time.Second, 1_000_000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Take(context.Background(), Bucket{"routes[0]/0", keys[i&4095]}, l, 1)
			i++
		}
	})
}

// BenchmarkMemoryMillionKeys reports the heap a million buckets take.
func BenchmarkMemoryMillionKeys(b *testing.B) {
	keys := make([]string, 1_000_000)
	for i := range keys {
		keys[i] = "2001:db8::" + strconv.FormatInt(int64(i), 16)
	}
	l := gcra.Per(10, time.Second, 20)
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := NewMemory(2_000_000, nil)
		now := time.Now().UnixNano()
		for _, k := range keys {
			m.TakeAt(Bucket{"routes[0]/0", k}, l, 1, now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB/million-keys")
		runtime.KeepAlive(m)
	}
}
