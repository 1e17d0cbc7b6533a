package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

func newTestMemory(t *testing.T, c *testClock, maxBytes int64) *Memory {
	t.Helper()
	m := NewMemory(MemoryOptions{MaxBytes: maxBytes, MaxObjectBytes: testMaxObject, Now: c.Now})
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestMemoryContract(t *testing.T) {
	testStoreContract(t, func(t *testing.T, c *testClock) Store {
		return newTestMemory(t, c, 256<<20)
	})
}

// The store stays within MaxBytes, counting bodies by their chunks.
func TestMemoryBoundedByBytes(t *testing.T) {
	c := newTestClock()
	m := NewMemory(MemoryOptions{MaxBytes: 1 << 20, Now: c.Now})
	defer m.Close()
	if m.MaxObjectBytes() != 128<<10 {
		t.Fatalf("default max object %d", m.MaxObjectBytes())
	}
	body := make([]byte, 10<<10)
	for i := range 1000 {
		put(t, m, fmt.Sprint("http://h/", i), "", body, Entry{Expires: c.Now().Add(time.Hour)})
	}
	m.c.CleanUp()
	if got := m.Bytes(); got > 1<<20 || got < 1<<19 {
		t.Fatalf("holds %d bytes, bound %d", got, 1<<20)
	}
	n := 0
	for range m.c.Keys() {
		n++
	}
	if n > 100 {
		t.Fatalf("%d keys of 10 KiB in 1 MiB", n)
	}
}

// A body read after its variant was evicted or replaced is still whole.
func TestMemoryBodyOutlivesEviction(t *testing.T) {
	c := newTestClock()
	m := newTestMemory(t, c, 64<<20)
	body := randomBody(100<<10, 4)
	put(t, m, "k", "", body, Entry{Expires: c.Now().Add(time.Hour)})
	v := lookup(t, m, "k")[""]
	_ = m.Delete(context.Background(), "k")
	for i := range 20 {
		put(t, m, "k", "", randomBody(100<<10, uint64(i)), Entry{Expires: c.Now().Add(time.Hour)})
	}
	if !bytes.Equal(readBody(t, v), body) {
		t.Fatal("an evicted body changed under its reader")
	}
}

// The tag index holds exactly the tags of what the store holds: it
// shrinks to nothing as entries are replaced, deleted, purged, expire or
// are evicted.
func TestMemoryTagIndexCleaned(t *testing.T) {
	ctx := context.Background()
	c := newTestClock()
	m := newTestMemory(t, c, 4<<20)
	exp := func(d time.Duration) Entry {
		return Entry{Tags: []string{"all", fmt.Sprint("t", d)}, Expires: c.Now().Add(d)}
	}
	// Replaced: the tags of the old set go, the new set's stay.
	put(t, m, "r", "", []byte("x"), Entry{Tags: []string{"old", "both"}, Expires: c.Now().Add(time.Hour)})
	put(t, m, "r", "", []byte("y"), Entry{Tags: []string{"new", "both"}, Expires: c.Now().Add(time.Hour)})
	if got := m.tags.keys("old"); len(got) != 0 {
		t.Fatalf("tag of a replaced variant still indexed: %v", got)
	}
	if got := m.tags.keys("both"); len(got) != 1 {
		t.Fatalf("tag kept by the replacement not indexed: %v", got)
	}
	_ = m.Delete(ctx, "r")

	for i := range 300 {
		put(t, m, fmt.Sprint("del/", i), "", []byte("x"), exp(time.Hour))
		put(t, m, fmt.Sprint("exp/", i), "", []byte("x"), exp(time.Minute))
		put(t, m, fmt.Sprint("tag/", i), "", []byte("x"), Entry{Tags: []string{"purge"}, Expires: c.Now().Add(time.Hour)})
	}
	if tags, entries := m.tags.size(); tags != 4 || entries != 300*5 {
		t.Fatalf("index: %d tags, %d entries", tags, entries)
	}
	if n, _ := m.PurgePrefix(ctx, "del/"); n != 300 {
		t.Fatalf("purged %d", n)
	}
	if n, _ := m.PurgeTag(ctx, "purge"); n != 300 {
		t.Fatalf("purged %d by tag", n)
	}
	c.Advance(2 * time.Minute)
	m.c.CleanUp()
	if tags, entries := m.tags.size(); tags != 0 || entries != 0 {
		t.Fatalf("after purges and expiry: %d tags, %d entries", tags, entries)
	}

	// Evicted: a stream of tagged one-off keys through a small store.
	body := make([]byte, 8<<10)
	for i := range 5000 {
		put(t, m, fmt.Sprint("ev/", i), "", body, Entry{Tags: []string{fmt.Sprint("e", i), "ev"}, Expires: c.Now().Add(time.Hour)})
	}
	m.c.CleanUp()
	keys := 0
	for range m.c.Keys() {
		keys++
	}
	if tags, entries := m.tags.size(); entries != 2*keys || tags > keys+1 {
		t.Fatalf("after evictions: %d keys, %d tags, %d entries", keys, tags, entries)
	}
	m.purgeAll()
	if tags, entries := m.tags.size(); tags != 0 || entries != 0 {
		t.Fatalf("after purgeAll: %d tags, %d entries", tags, entries)
	}
}

// A hit costs one allocation: the slice Lookup returns.
func TestMemoryHitAllocs(t *testing.T) {
	c := newTestClock()
	m := newTestMemory(t, c, 64<<20)
	put(t, m, "http://h/x", "", make([]byte, 1024), Entry{Meta: make([]byte, 200), Expires: c.Now().Add(time.Hour)})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		vs, _ := m.Lookup(ctx, "http://h/x")
		_, _ = vs[0].Body.WriteTo(ctx, io.Discard)
	})
	if allocs > 2 {
		t.Fatalf("%v allocations per hit", allocs)
	}
}
