package store

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/maypok86/otter/v2"
)

// Why otter. The two W-TinyLFU libraries (and plain LRU as a baseline)
// under a Zipf(1.1) workload over 100,000 URLs with a one-off scan of
// 100,000 more in the middle, capacity 2,000 entries, scoring the Zipf
// requests after the warm-up; and 10,000 entries under parallel Get
// (Zipf keys, all present) and Set (Zipf keys over 100,000, evicting).
// Measured with go test -bench Policy on the shared 2-core development
// machine (AMD EPYC, GOMAXPROCS 2; runs vary by about 15%):
//
//	                        otter        ristretto     ristretto+Wait  LRU
//	hit ratio               0.748        0.677-0.689   0.719-0.720     0.674
//	Get, parallel           21-25 ns     33-38 ns
//	                        0 allocs     0 allocs
//	Set, parallel           122-127 ns   346-436 ns
//	                        1 alloc 12 B 2 allocs 100 B  (one is the test's value)
//
// Otter wins each row: seven points of hit ratio over ristretto as it is
// used (its Set is asynchronous and drops writes under load, which puts
// it at LRU's level) and still three over ristretto waiting for every
// Set; Get a third faster and Set about three times faster. Otter also
// gives per-entry expiry and an atomic deletion listener that the tag
// index relies on, and its Compute changes a key under the key's lock.

// policy is the little both libraries are asked to do.
type policy interface {
	get(k string) bool
	set(k string)
	close()
}

type otterPolicy struct{ c *otter.Cache[string, *int] }

func newOtter(capacity int) policy {
	return otterPolicy{otter.Must(&otter.Options[string, *int]{MaximumSize: capacity})}
}

func (p otterPolicy) get(k string) bool { _, ok := p.c.GetIfPresent(k); return ok }
func (p otterPolicy) set(k string)      { p.c.Set(k, new(int)) }
func (p otterPolicy) close()            { p.c.StopAllGoroutines() }

type ristrettoPolicy struct {
	c    *ristretto.Cache[string, *int]
	wait bool
}

func newRistretto(wait bool) func(capacity int) policy {
	return func(capacity int) policy {
		c, err := ristretto.NewCache(&ristretto.Config[string, *int]{
			NumCounters:        int64(capacity) * 10,
			MaxCost:            int64(capacity),
			BufferItems:        64,
			IgnoreInternalCost: true,
		})
		if err != nil {
			panic(err)
		}
		return ristrettoPolicy{c, wait}
	}
}

func (p ristrettoPolicy) get(k string) bool { _, ok := p.c.Get(k); return ok }
func (p ristrettoPolicy) close()            { p.c.Close() }
func (p ristrettoPolicy) set(k string) {
	p.c.Set(k, new(int), 1)
	if p.wait {
		p.c.Wait()
	}
}

// lruPolicy is plain LRU, the baseline a scan flushes.
type lruPolicy struct {
	capacity int
	l        *list.List
	m        map[string]*list.Element
}

func newLRU(capacity int) policy {
	return &lruPolicy{capacity, list.New(), make(map[string]*list.Element)}
}

func (p *lruPolicy) close() {}
func (p *lruPolicy) get(k string) bool {
	e, ok := p.m[k]
	if ok {
		p.l.MoveToFront(e)
	}
	return ok
}

func (p *lruPolicy) set(k string) {
	p.m[k] = p.l.PushFront(k)
	if p.l.Len() > p.capacity {
		delete(p.m, p.l.Remove(p.l.Back()).(string))
	}
}

var policies = []struct {
	name string
	new  func(capacity int) policy
}{
	{"otter", newOtter},
	{"ristretto", newRistretto(false)},
	{"ristretto-wait", newRistretto(true)},
	{"lru", newLRU},
}

// access is one request of a trace; scored accesses count for the ratio.
type access struct {
	key    string
	scored bool
}

// scanTrace is a Zipf(1.1) workload over 100,000 URLs: a warm-up, then
// the same workload interleaved one to one with a scan of 100,000 URLs
// asked once each, then the workload alone again. Only the Zipf requests
// after the warm-up are scored.
func scanTrace() []access {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, 100_000-1)
	var tr []access
	zipf := func(scored bool) {
		tr = append(tr, access{fmt.Sprint("http://h/hot/", z.Uint64()), scored})
	}
	for range 100_000 {
		zipf(false)
	}
	for i := range 100_000 {
		zipf(true)
		tr = append(tr, access{fmt.Sprint("http://h/scan/", i), false})
	}
	for range 100_000 {
		zipf(true)
	}
	return tr
}

func BenchmarkPolicyHitRatio(b *testing.B) {
	tr := scanTrace()
	for _, p := range policies {
		b.Run(p.name, func(b *testing.B) {
			var ratio float64
			for b.Loop() {
				c := p.new(2000)
				hits, scored := 0, 0
				for _, a := range tr {
					hit := c.get(a.key)
					if !hit {
						c.set(a.key)
					}
					if a.scored {
						scored++
						if hit {
							hits++
						}
					}
				}
				c.close()
				ratio = float64(hits) / float64(scored)
			}
			b.ReportMetric(ratio, "hit-ratio")
		})
	}
}

// zipfKeys is a Zipf(1.1) sequence of n requests over keys URLs.
func zipfKeys(n, keys int) []string {
	r := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(r, 1.1, 1, uint64(keys-1))
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprint("http://h/", i)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = names[z.Uint64()]
	}
	return out
}

func BenchmarkPolicyGetParallel(b *testing.B) {
	ks := zipfKeys(1<<16, 10_000)
	for _, p := range policies[:2] {
		b.Run(p.name, func(b *testing.B) {
			c := p.new(10_000)
			defer c.close()
			for _, k := range ks {
				c.set(k)
			}
			time.Sleep(10 * time.Millisecond) // ristretto applies sets in the background
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(ks))
				for pb.Next() {
					c.get(ks[i&(len(ks)-1)])
					i++
				}
			})
		})
	}
}

func BenchmarkPolicySetParallel(b *testing.B) {
	ks := zipfKeys(1<<16, 100_000)
	for _, p := range policies[:2] {
		b.Run(p.name, func(b *testing.B) {
			c := p.new(10_000)
			defer c.close()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(ks))
				for pb.Next() {
					c.set(ks[i&(len(ks)-1)])
					i++
				}
			})
		})
	}
}

// BenchmarkMemoryHit is a hit of a 1 KiB body: Lookup and WriteTo.
func BenchmarkMemoryHit(b *testing.B) {
	m := NewMemory(MemoryOptions{})
	defer m.Close()
	put(b, m, "http://h/x", "", make([]byte, 1024), Entry{Meta: make([]byte, 200), Expires: time.Now().Add(time.Hour)})
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			vs, _ := m.Lookup(ctx, "http://h/x")
			_, _ = vs[0].Body.WriteTo(ctx, io.Discard)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				vs, _ := m.Lookup(ctx, "http://h/x")
				_, _ = vs[0].Body.WriteTo(ctx, io.Discard)
			}
		})
	})
}

// BenchmarkMemoryStore stores a 64 KiB body of unknown length.
func BenchmarkMemoryStore(b *testing.B) {
	m := NewMemory(MemoryOptions{})
	defer m.Close()
	body := make([]byte, 64<<10)
	e := Entry{Meta: make([]byte, 200), Expires: time.Now().Add(time.Hour)}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		w, _ := m.Create(ctx, fmt.Sprint("http://h/", i%1000), "", e, -1)
		_, _ = w.Write(body[:32<<10])
		_, _ = w.Write(body[32<<10:])
		_ = w.Commit(ctx)
		i++
	}
}
