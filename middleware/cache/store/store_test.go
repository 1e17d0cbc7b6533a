package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// The contract every Store keeps, run against each of them.

// testClock is a clock tests move by hand; it starts at the real time, so
// that Redis's own expiry (by its clock) stays later than the store's.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testMaxObject is the MaxObjectBytes of the stores under test.
const testMaxObject = 8 << 20

// newStore makes a store that reads time from clock.
type newStore func(t *testing.T, clock *testClock) Store

func put(t testing.TB, s Store, key, id string, body []byte, e Entry) {
	t.Helper()
	w, err := s.Create(context.Background(), key, id, e, int64(len(body)))
	if err != nil {
		t.Fatalf("Create %q %q: %v", key, id, err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatalf("Write %q %q: %v", key, id, err)
	}
	if err := w.Commit(context.Background()); err != nil {
		t.Fatalf("Commit %q %q: %v", key, id, err)
	}
}

func readBody(t testing.TB, v Variant) []byte {
	t.Helper()
	var b bytes.Buffer
	n, err := v.Body.WriteTo(context.Background(), &b)
	if err != nil {
		t.Fatalf("WriteTo %q: %v", v.ID, err)
	}
	if n != int64(b.Len()) || n != v.Body.Size() {
		t.Fatalf("WriteTo %q: n %d, wrote %d, Size %d", v.ID, n, b.Len(), v.Body.Size())
	}
	return b.Bytes()
}

func lookup(t testing.TB, s Store, key string) map[string]Variant {
	t.Helper()
	vs, err := s.Lookup(context.Background(), key)
	if err != nil {
		t.Fatalf("Lookup %q: %v", key, err)
	}
	out := make(map[string]Variant, len(vs))
	for _, v := range vs {
		if _, dup := out[v.ID]; dup {
			t.Fatalf("Lookup %q: variant %q twice", key, v.ID)
		}
		out[v.ID] = v
	}
	return out
}

// bodyOf returns the body of key's variant id, or "" and false.
func bodyOf(t testing.TB, s Store, key, id string) (string, bool) {
	t.Helper()
	v, ok := lookup(t, s, key)[id]
	if !ok {
		return "", false
	}
	return string(readBody(t, v)), true
}

func randomBody(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testStoreContract(t *testing.T, mk newStore) {
	ctx := context.Background()
	entry := func(c *testClock, d time.Duration, tags ...string) Entry {
		return Entry{Meta: []byte("meta"), Tags: tags, Expires: c.Now().Add(d)}
	}

	t.Run("StoreLookup", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		if got := lookup(t, s, "http://h/a"); len(got) != 0 {
			t.Fatalf("empty store: %v", got)
		}
		e := Entry{Meta: []byte{0, 1, 2, 0xff}, Tags: []string{"t1", "t 2"}, Expires: c.Now().Add(time.Hour)}
		put(t, s, "http://h/a", "", []byte("hello"), e)
		vs := lookup(t, s, "http://h/a")
		v, ok := vs[""]
		if len(vs) != 1 || !ok {
			t.Fatalf("variants %v", vs)
		}
		if !bytes.Equal(v.Meta, e.Meta) || !slices.Equal(v.Tags, e.Tags) || v.Expires.Sub(e.Expires).Abs() > time.Millisecond {
			t.Fatalf("entry %+v, want %+v", v.Entry, e)
		}
		if got := string(readBody(t, v)); got != "hello" {
			t.Fatalf("body %q", got)
		}
		// A body reads again, and an empty one is a body.
		if got := string(readBody(t, v)); got != "hello" {
			t.Fatalf("second read %q", got)
		}
		put(t, s, "http://h/empty", "", nil, e)
		if got, ok := bodyOf(t, s, "http://h/empty", ""); !ok || got != "" {
			t.Fatalf("empty body %q %v", got, ok)
		}
	})

	t.Run("Variants", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		for _, id := range []string{"", "gzip", "br"} {
			put(t, s, "k", id, []byte("body-"+id), entry(c, time.Hour))
		}
		put(t, s, "k", "br", []byte("body-br-2"), entry(c, time.Hour))
		vs := lookup(t, s, "k")
		if len(vs) != 3 {
			t.Fatalf("%d variants", len(vs))
		}
		for id, want := range map[string]string{"": "body-", "gzip": "body-gzip", "br": "body-br-2"} {
			if got := string(readBody(t, vs[id])); got != want {
				t.Errorf("variant %q: %q, want %q", id, got, want)
			}
		}
	})

	t.Run("MaxVariants", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		for i := range MaxVariants {
			d := time.Duration(i+2) * time.Hour
			if i == 5 {
				d = time.Hour // expires first
			}
			put(t, s, "k", fmt.Sprint("v", i), []byte("x"), entry(c, d))
		}
		put(t, s, "k", "new", []byte("x"), entry(c, 30*time.Hour))
		vs := lookup(t, s, "k")
		if len(vs) != MaxVariants {
			t.Fatalf("%d variants, want %d", len(vs), MaxVariants)
		}
		if _, ok := vs["v5"]; ok {
			t.Fatal("the variant that expires first was kept")
		}
		if _, ok := vs["new"]; !ok {
			t.Fatal("the new variant was dropped")
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		put(t, s, "k", "short", []byte("s"), entry(c, time.Minute))
		put(t, s, "k", "long", []byte("l"), entry(c, time.Hour))
		put(t, s, "past", "", []byte("p"), entry(c, -time.Second))
		if got := lookup(t, s, "past"); len(got) != 0 {
			t.Fatal("an expired variant was stored")
		}
		c.Advance(2 * time.Minute)
		vs := lookup(t, s, "k")
		if _, ok := vs["short"]; ok || len(vs) != 1 {
			t.Fatalf("after expiry: %v", vs)
		}
		c.Advance(time.Hour)
		if got := lookup(t, s, "k"); len(got) != 0 {
			t.Fatalf("after both expired: %v", got)
		}
	})

	t.Run("UpdateKeepsBody", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		body := randomBody(600<<10, 1)
		put(t, s, "k", "v", body, entry(c, time.Hour, "tag"))
		put(t, s, "k", "other", []byte("o"), entry(c, time.Hour))
		exp := c.Now().Add(3 * time.Hour)
		if err := s.Update(ctx, "k", "v", Entry{Meta: []byte("meta2"), Expires: exp}); err != nil {
			t.Fatal(err)
		}
		c.Advance(2 * time.Hour)
		vs := lookup(t, s, "k")
		v, ok := vs["v"]
		if !ok || len(vs) != 1 {
			t.Fatalf("after update: %v", vs)
		}
		if string(v.Meta) != "meta2" || v.Expires.Sub(exp).Abs() > time.Millisecond || !slices.Equal(v.Tags, []string{"tag"}) {
			t.Fatalf("updated entry %+v", v.Entry)
		}
		if !bytes.Equal(readBody(t, v), body) {
			t.Fatal("update changed the body")
		}
		if err := s.Update(ctx, "k", "gone", Entry{Expires: exp}); err != nil {
			t.Fatalf("update of a missing variant: %v", err)
		}
		if err := s.Update(ctx, "nokey", "", Entry{Expires: exp}); err != nil {
			t.Fatalf("update of a missing key: %v", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		put(t, s, "k", "a", []byte("a"), entry(c, time.Hour))
		put(t, s, "k", "b", []byte("b"), entry(c, time.Hour))
		put(t, s, "k2", "", []byte("c"), entry(c, time.Hour))
		if err := s.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, s, "k"); len(got) != 0 {
			t.Fatalf("after delete: %v", got)
		}
		if _, ok := bodyOf(t, s, "k2", ""); !ok {
			t.Fatal("delete dropped another key")
		}
		if err := s.Delete(ctx, "missing"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("PurgePrefix", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		in := []string{`http://h/a*b?c[d]\e/1`, `http://h/a*b?c[d]\e/2`, `http://h/a*b?c[d]\e/3`}
		out := []string{`http://h/aXbYcd\e/1`, `http://h/a*b?c[d]`, `http://h/b/a*b?c[d]\e/`, `http://h/a*b?cd]\e/1`}
		for _, k := range append(slices.Clone(in), out...) {
			put(t, s, k, "", []byte(k), entry(c, time.Hour))
		}
		put(t, s, in[0], "v2", []byte("v2"), entry(c, time.Hour))
		n, err := s.PurgePrefix(ctx, `http://h/a*b?c[d]\e/`)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(in) {
			t.Errorf("purged %d keys, want %d", n, len(in))
		}
		for _, k := range in {
			if got := lookup(t, s, k); len(got) != 0 {
				t.Errorf("%s survived", k)
			}
		}
		for _, k := range out {
			if _, ok := bodyOf(t, s, k, ""); !ok {
				t.Errorf("%s was purged", k)
			}
		}
	})

	t.Run("PurgeTag", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		put(t, s, "a", "", []byte("a"), entry(c, time.Hour, "t1", "t2"))
		put(t, s, "b", "", []byte("b"), entry(c, time.Hour, "t1"))
		put(t, s, "c", "", []byte("c"), entry(c, time.Hour, "t2"))
		put(t, s, "d", "v1", []byte("d1"), entry(c, time.Hour, "t1"))
		put(t, s, "d", "v2", []byte("d2"), entry(c, time.Hour))
		n, err := s.PurgeTag(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("purged %d variants, want 3", n)
		}
		for _, k := range []string{"a", "b"} {
			if got := lookup(t, s, k); len(got) != 0 {
				t.Errorf("%s survived", k)
			}
		}
		if vs := lookup(t, s, "d"); len(vs) != 1 || vs["v2"].Body == nil {
			t.Errorf("d: %v", vs)
		}
		if _, ok := bodyOf(t, s, "c", ""); !ok {
			t.Error("c was purged")
		}
		if n, _ := s.PurgeTag(ctx, "t1"); n != 0 {
			t.Errorf("second purge dropped %d", n)
		}
		if n, _ := s.PurgeTag(ctx, "t2"); n != 1 {
			t.Errorf("purge of t2 dropped %d", n)
		}
	})

	t.Run("LargeBody", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		body := randomBody(5<<20, 2)
		w, err := s.Create(ctx, "big", "", entry(c, time.Hour), -1)
		if err != nil {
			t.Fatal(err)
		}
		for p := body; len(p) > 0; {
			k := min(len(p), 7001)
			if _, err := w.Write(p[:k]); err != nil {
				t.Fatal(err)
			}
			p = p[k:]
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		v := lookup(t, s, "big")[""]
		if v.Body == nil || v.Body.Size() != int64(len(body)) {
			t.Fatalf("variant %+v", v)
		}
		if !bytes.Equal(readBody(t, v), body) {
			t.Fatal("large body differs")
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		if _, err := s.Create(ctx, "k", "", entry(c, time.Hour), testMaxObject+1); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Create with a size over the maximum: %v", err)
		}
		put(t, s, "k", "", []byte("old"), entry(c, time.Hour))
		w, err := s.Create(ctx, "k", "", entry(c, time.Hour), -1)
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 1<<20)
		var werr error
		for i := 0; i < 9 && werr == nil; i++ {
			_, werr = w.Write(chunk)
		}
		if !errors.Is(werr, ErrTooLarge) {
			t.Fatalf("Write past the maximum: %v", werr)
		}
		if err := w.Commit(ctx); err == nil {
			t.Fatal("a body cut by ErrTooLarge was committed")
		}
		w.Abort()
		if got, _ := bodyOf(t, s, "k", ""); got != "old" {
			t.Fatalf("after an aborted write: %q", got)
		}
	})

	t.Run("AbortKeepsOld", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		put(t, s, "k", "", []byte("old"), entry(c, time.Hour))
		w, err := s.Create(ctx, "k", "", entry(c, time.Hour), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(randomBody(700<<10, 3)); err != nil {
			t.Fatal(err)
		}
		if got, _ := bodyOf(t, s, "k", ""); got != "old" {
			t.Fatalf("before commit: %q", got)
		}
		w.Abort()
		if got, _ := bodyOf(t, s, "k", ""); got != "old" {
			t.Fatalf("after abort: %q", got)
		}
	})

	t.Run("ConcurrentWriters", func(t *testing.T) {
		c := newTestClock()
		s := mk(t, c)
		const writers, size = 6, 600 << 10
		check := func(v Variant) error {
			var b bytes.Buffer
			if _, err := v.Body.WriteTo(ctx, &b); err != nil {
				return err
			}
			got := b.Bytes()
			if len(got) != size || bytes.Count(got, got[:1]) != size {
				return fmt.Errorf("mixed body: %d bytes, first %d", len(got), got[0])
			}
			return nil
		}
		var wg sync.WaitGroup
		errs := make(chan error, writers+2)
		for i := range writers {
			wg.Go(func() {
				for round := range 3 {
					w, err := s.Create(ctx, "k", "v", entry(c, time.Hour), -1)
					if err != nil {
						errs <- err
						return
					}
					b := bytes.Repeat([]byte{byte(i*3 + round + 1)}, size)
					for p := b; len(p) > 0; {
						k := min(len(p), 1000+i*4099)
						if _, err := w.Write(p[:k]); err != nil {
							errs <- err
							return
						}
						p = p[k:]
						runtime.Gosched()
					}
					if err := w.Commit(ctx); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for range 2 {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					vs, err := s.Lookup(ctx, "k")
					if err != nil {
						errs <- err
						return
					}
					for _, v := range vs {
						if err := check(v); err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		readers.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		vs := lookup(t, s, "k")
		if len(vs) != 1 {
			t.Fatalf("%d variants", len(vs))
		}
		if err := check(vs["v"]); err != nil {
			t.Fatal(err)
		}
	})
}
