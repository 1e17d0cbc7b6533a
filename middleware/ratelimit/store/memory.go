package store

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
)

// Memory keeps buckets in this process: 256 shards, each a map from a
// 64-bit hash of the bucket to its TAT under its own lock, so concurrent
// requests rarely meet on a lock and no lock is global.
//
// Bounded by MaxKeys: a shard that is full first drops keys whose TAT has
// passed (a full allowance, the same as no entry), and otherwise the
// coldest of a few sampled keys (the smallest TAT: the allowance nearest
// to full, whose loss changes least). Sweep removes passed keys one
// shard at a time, never holding more than one shard's lock.
//
// Buckets are told apart by a 64-bit hash with a per-process random seed:
// two distinct buckets share state with a probability near n²/2⁶⁵ (about
// 3 in 100 million for a million keys), and nobody can aim at a
// collision without knowing the seed.
type Memory struct {
	seed     maphash.Seed
	perShard int
	now      func() time.Time
	shards   [shardCount]shard
}

const shardCount = 256

type shard struct {
	mu sync.Mutex
	m  map[uint64]int64 // bucket hash → TAT, Unix nanoseconds
	_  [48]byte         // keep neighbouring shards' locks off one cache line
}

// evictSample is how many keys a full shard looks at to choose one to
// drop.
const evictSample = 8

// NewMemory returns a store of at most maxKeys buckets (at least one per
// shard). now is the clock; nil means time.Now.
func NewMemory(maxKeys int, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{seed: maphash.MakeSeed(), perShard: max(1, (maxKeys+shardCount-1)/shardCount), now: now}
	for i := range m.shards {
		m.shards[i].m = make(map[uint64]int64)
	}
	return m
}

// Take implements Store. It never fails.
func (m *Memory) Take(_ context.Context, b Bucket, l gcra.Limit, n int64) (gcra.Result, error) {
	return m.TakeAt(b, l, n, m.now().UnixNano()), nil
}

// TakeAt is Take at the given time, Unix nanoseconds.
func (m *Memory) TakeAt(b Bucket, l gcra.Limit, n int64, now int64) gcra.Result {
	h := m.hash(b)
	s := &m.shards[h>>56]
	s.mu.Lock()
	tat, ok := s.m[h]
	next, r := l.Decide(tat, now, n)
	if next != tat {
		if !ok && len(s.m) >= m.perShard {
			s.evict(now)
		}
		s.m[h] = next
	}
	s.mu.Unlock()
	return r
}

func (m *Memory) hash(b Bucket) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(b.Policy)
	h.WriteByte(0)
	h.WriteString(b.Key)
	return h.Sum64()
}

// evict makes room for one key: passed keys among a sample go, or else
// the sample's coldest.
func (s *shard) evict(now int64) {
	var coldest uint64
	coldestTAT, seen, freed := int64(0), 0, false
	for k, tat := range s.m { // map iteration starts at a random place
		if tat <= now {
			delete(s.m, k)
			freed = true
		} else if seen == 0 || tat < coldestTAT {
			coldest, coldestTAT = k, tat
		}
		if seen++; seen == evictSample {
			break
		}
	}
	if !freed {
		delete(s.m, coldest)
	}
}

// Len is the number of buckets held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// Sweep removes, shard by shard, the buckets whose TAT has passed.
func (m *Memory) Sweep() {
	for i := range m.shards {
		s := &m.shards[i]
		now := m.now().UnixNano()
		s.mu.Lock()
		for k, tat := range s.m {
			if tat <= now {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

// Run sweeps every interval until ctx ends.
func (m *Memory) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Sweep()
		}
	}
}

var _ Store = (*Memory)(nil)
