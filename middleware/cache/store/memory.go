package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
)

// MemoryOptions configures a Memory store.
type MemoryOptions struct {
	// MaxBytes bounds what the store holds: bodies (the capacity of their
	// chunks), metadata, keys, variant IDs, tags and a fixed overhead per
	// key and per variant. Zero or less means 64 MiB.
	MaxBytes int64
	// MaxObjectBytes bounds one body. Zero or less means MaxBytes/8; it is
	// never more than MaxBytes.
	MaxObjectBytes int64
	// Now tells the time; nil means time.Now. With a clock of its own the
	// store runs no periodic clean-up: expired entries then go during
	// other writes (tests drive it).
	Now func() time.Time
}

// Memory is a Store in process memory, bounded by bytes. Admission and
// eviction follow W-TinyLFU (otter): a key is kept by how often it is
// asked for, not only how recently, so a scan of one-off URLs does not
// flush the hot set. bench_test.go compares it with ristretto.
//
// The unit of eviction is a key with all its variants (at most
// MaxVariants), held as an immutable set that every change replaces. A
// key expires when its last variant does; a Lookup never returns an
// expired variant, and drops those it finds. Bodies are lists of chunks
// of up to 32 KiB, never one large buffer, except that a body of at most
// joinMax is joined into one slice when it is committed (see join).
//
// Variants returned by Lookup stay readable after they are evicted: a
// body being written to a client is never freed under it.
type Memory struct {
	c         *otter.Cache[string, *memSet]
	now       func() time.Time
	maxObject int64
	tags      tagIndex
	chunks    chunkPool
}

// memSet is the immutable set of a key's variants.
type memSet struct {
	vs      []Variant // each Body a *memBody; never modified once built
	tags    []string  // the distinct tags of vs
	expires time.Time // the latest expiry of vs
	weight  uint32
}

// Overheads counted with each key and each variant: the otter node, the
// set, the Variant and body headers, map entries of the tag index.
const (
	keyOverhead     = 160
	variantOverhead = 192
	tagOverhead     = 64
)

// NewMemory returns a memory store. Close stops its background work.
func NewMemory(o MemoryOptions) *Memory {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.MaxObjectBytes <= 0 {
		o.MaxObjectBytes = o.MaxBytes / 8
	}
	o.MaxObjectBytes = min(o.MaxObjectBytes, o.MaxBytes)
	m := &Memory{now: o.Now, maxObject: o.MaxObjectBytes}
	if m.now == nil {
		m.now = time.Now
	}
	m.tags.init()
	opts := &otter.Options[string, *memSet]{
		MaximumWeight: uint64(o.MaxBytes),
		Weigher:       func(_ string, s *memSet) uint32 { return s.weight },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *memSet]) time.Duration {
			return max(e.Value.expires.Sub(m.now()), time.Nanosecond)
		}),
		// Runs under the key's bucket lock, as the Compute functions that
		// add to the index do, so the index sees a key's changes in order.
		OnAtomicDeletion: func(e otter.DeletionEvent[string, *memSet]) {
			m.tags.remove(e.Key, e.Value)
		},
	}
	if o.Now != nil {
		opts.Clock = nowClock(o.Now)
	}
	c, err := otter.New(opts)
	if err != nil {
		// Only invalid options fail, and these are not.
		panic(fmt.Sprintf("store: otter: %v", err))
	}
	m.c = c
	return m
}

// Lookup returns the key's unexpired variants. It never fails; the slice
// is the caller's, the variants' Meta and Tags are shared (read only).
func (m *Memory) Lookup(_ context.Context, key string) ([]Variant, error) {
	s, ok := m.c.GetIfPresent(key)
	if !ok {
		return nil, nil
	}
	now := m.now()
	out := make([]Variant, 0, len(s.vs))
	for _, v := range s.vs {
		if v.Expires.After(now) {
			out = append(out, v)
		}
	}
	if len(out) < len(s.vs) {
		m.dropExpired(key, now)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Create starts storing a variant; see Store.
func (m *Memory) Create(_ context.Context, key, id string, e Entry, size int64) (Writer, error) {
	if size > m.maxObject {
		return nil, ErrTooLarge
	}
	e.Tags = dedupTags(e.Tags)
	return &memWriter{m: m, key: key, id: id, e: e, hint: size}, nil
}

// commit puts v into key's set: it replaces the variant with its ID, drops
// expired ones, and past MaxVariants the one that expires first.
func (m *Memory) commit(key string, v Variant) {
	now := m.now()
	if !v.Expires.After(now) {
		return
	}
	m.join(v.Body.(*memBody))
	m.c.Compute(key, func(old *memSet, found bool) (*memSet, otter.ComputeOp) {
		var vs []Variant
		if found {
			vs = make([]Variant, 0, len(old.vs)+1)
			for _, o := range old.vs {
				if o.ID != v.ID && o.Expires.After(now) {
					vs = append(vs, o)
				}
			}
		}
		vs = append(vs, v)
		if len(vs) > MaxVariants {
			vs = dropFirstExpiring(vs)
		}
		return m.install(key, vs)
	})
}

// joinMax is the largest body join keeps in one slice: two chunks.
const joinMax = 2 * memChunk

// join makes a body of several chunks, but at most joinMax, one slice, so
// a hit writes it with one call: net/http then sends it in two write(2)s
// (its buffered header with the start of the body, then the rest), not
// one more per chunk, and each one saved is a system call and a wake-up
// of the reader (BenchmarkServedHit in package cache measures it). Larger
// bodies stay in chunks because each write must finish within the
// listener's send_timeout: one of joinMax still does for a client that
// takes more than about 1 KB/s against the 60 s default. The chunks go
// back to the pool: the body is not visible yet, so no reader holds them.
func (m *Memory) join(b *memBody) {
	if len(b.chunks) < 2 || b.size > joinMax {
		return
	}
	one := make([]byte, 0, b.size)
	for _, c := range b.chunks {
		one = append(one, c...)
		if cap(c) == memChunk {
			m.chunks.put(c)
		}
	}
	b.chunks = [][]byte{one}
	b.mem = int64(cap(one))
}

// Update replaces a variant's metadata, decoded value and expiry, keeping
// its body.
func (m *Memory) Update(_ context.Context, key, id string, e Entry) error {
	now := m.now()
	m.c.ComputeIfPresent(key, func(old *memSet) (*memSet, otter.ComputeOp) {
		vs := make([]Variant, 0, len(old.vs))
		hit := false
		for _, o := range old.vs {
			if o.ID == id {
				hit = true
				o.Meta, o.Value, o.Expires = e.Meta, e.Value, e.Expires
			}
			if o.Expires.After(now) {
				vs = append(vs, o)
			}
		}
		if !hit {
			return old, otter.CancelOp
		}
		return m.install(key, vs)
	})
	return nil
}

// Delete drops every variant of key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.c.Invalidate(key)
	return nil
}

// PurgePrefix drops every key starting with prefix. It walks all keys.
func (m *Memory) PurgePrefix(_ context.Context, prefix string) (int, error) {
	var keys []string
	for k := range m.c.Keys() {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	n := 0
	for _, k := range keys {
		if _, ok := m.c.Invalidate(k); ok {
			n++
		}
	}
	return n, nil
}

// PurgeTag drops every variant tagged tag, through the tag index.
func (m *Memory) PurgeTag(_ context.Context, tag string) (int, error) {
	n := 0
	for _, key := range m.tags.keys(tag) {
		m.c.ComputeIfPresent(key, func(old *memSet) (*memSet, otter.ComputeOp) {
			vs := make([]Variant, 0, len(old.vs))
			for _, v := range old.vs {
				if hasTag(v.Tags, tag) {
					n++
				} else {
					vs = append(vs, v)
				}
			}
			if len(vs) == len(old.vs) {
				return old, otter.CancelOp
			}
			return m.install(key, vs)
		})
	}
	return n, nil
}

// Close stops the store's clean-up goroutine. The entries stay readable.
func (m *Memory) Close() error {
	m.c.StopAllGoroutines()
	return nil
}

// MaxObjectBytes is the largest body the store keeps.
func (m *Memory) MaxObjectBytes() int64 { return m.maxObject }

// Bytes is the weight of what the store holds now, as MaxBytes counts it.
func (m *Memory) Bytes() int64 { return int64(m.c.WeightedSize()) }

// purgeAll drops everything (the tiered store after missed invalidations).
func (m *Memory) purgeAll() { m.c.InvalidateAll() }

// dropExpired removes the expired variants Lookup found.
func (m *Memory) dropExpired(key string, now time.Time) {
	m.c.ComputeIfPresent(key, func(old *memSet) (*memSet, otter.ComputeOp) {
		vs := make([]Variant, 0, len(old.vs))
		for _, v := range old.vs {
			if v.Expires.After(now) {
				vs = append(vs, v)
			}
		}
		if len(vs) == len(old.vs) {
			return old, otter.CancelOp
		}
		return m.install(key, vs)
	})
}

// install builds the set for vs and indexes its tags; it runs inside a
// Compute function, under the key's lock, so that the index entry exists
// before any deletion event of the set can remove it.
func (m *Memory) install(key string, vs []Variant) (*memSet, otter.ComputeOp) {
	if len(vs) == 0 {
		return nil, otter.InvalidateOp
	}
	s := &memSet{vs: vs[:len(vs):len(vs)]}
	w := int64(keyOverhead + len(key))
	for _, v := range vs {
		if v.Expires.After(s.expires) {
			s.expires = v.Expires
		}
		w += variantOverhead + int64(len(v.ID)+len(v.Meta)) + v.Body.(*memBody).mem
		for _, t := range v.Tags {
			w += tagOverhead + int64(len(t))
			if !hasTag(s.tags, t) {
				s.tags = append(s.tags, t)
			}
		}
	}
	s.weight = uint32(min(w, math.MaxUint32))
	m.tags.add(key, s)
	return s, otter.WriteOp
}

// dropFirstExpiring removes the variant of vs that expires first.
func dropFirstExpiring(vs []Variant) []Variant {
	first := 0
	for i, v := range vs {
		if v.Expires.Before(vs[first].Expires) {
			first = i
		}
	}
	return append(vs[:first], vs[first+1:]...)
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// dedupTags returns tags without repeats, in a slice of the store's own.
func dedupTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !hasTag(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// nowClock is an otter clock that follows MemoryOptions.Now and never
// ticks.
type nowClock func() time.Time

func (c nowClock) NowNano() int64                      { return c().UnixNano() }
func (c nowClock) Tick(time.Duration) <-chan time.Time { return nil }

var _ Store = (*Memory)(nil)
