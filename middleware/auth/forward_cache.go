package auth

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// admissions remembers a Forward's admissions for a TTL, keyed by the
// values of the key headers the service saw. At most max are kept: a
// new one past the bound pushes out the least recently used (expired
// ones are dropped when found, and never admit). Safe for concurrent
// use; a nil *admissions remembers nothing.
type admissions struct {
	ttl time.Duration
	key []string // canonical names
	max int
	now func() time.Time

	mu  sync.Mutex
	m   map[[32]byte]*list.Element
	lru list.List // of *admission, the most recently used first
}

type admission struct {
	key     [32]byte
	user    string
	headers http.Header // shared by every identity made from it
	until   time.Time
}

func newAdmissions(o ForwardCache, sent []string, now func() time.Time) (*admissions, error) {
	if now == nil {
		now = time.Now
	}
	c := &admissions{ttl: o.TTL, max: o.MaxEntries, now: now, m: map[[32]byte]*list.Element{}}
	if c.max <= 0 {
		c.max = 10000
	}
	if o.Key == nil {
		o.Key = sent
	}
	for _, n := range o.Key {
		k := http.CanonicalHeaderKey(n)
		// A header the service does not see cannot be what it decides by.
		if !slices.Contains(sent, k) {
			return nil, fmt.Errorf("forward auth: cache key header %q is not one of the request headers sent, %q", n, sent)
		}
		if !slices.Contains(c.key, k) {
			c.key = append(c.key, k)
		}
	}
	if len(c.key) == 0 {
		return nil, fmt.Errorf("forward auth: a cache needs key headers")
	}
	return c, nil
}

// keyOf is the key of a subrequest's header: a SHA-256 over, for each
// key header in turn, its number of values and each value with its
// length before it. ok is false when none of the key headers is there.
func (c *admissions) keyOf(h http.Header) (k [32]byte, ok bool) {
	if c == nil {
		return k, false
	}
	d := sha256.New()
	var n [4]byte
	for _, name := range c.key {
		vv := h[name]
		ok = ok || len(vv) > 0
		binary.BigEndian.PutUint32(n[:], uint32(len(vv)))
		d.Write(n[:])
		for _, v := range vv {
			binary.BigEndian.PutUint32(n[:], uint32(len(v)))
			d.Write(n[:])
			d.Write([]byte(v))
		}
	}
	d.Sum(k[:0])
	return k, ok
}

// get returns a new identity of the unexpired admission of k, or nil.
func (c *admissions) get(k [32]byte) *reqinfo.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e == nil {
		return nil
	}
	a := e.Value.(*admission)
	if !c.now().Before(a.until) {
		c.lru.Remove(e)
		delete(c.m, k)
		return nil
	}
	c.lru.MoveToFront(e)
	return &reqinfo.Identity{Method: "forward", User: a.user, Headers: a.headers}
}

// put remembers that k admitted id.
func (c *admissions) put(k [32]byte, id *reqinfo.Identity) {
	a := &admission{key: k, user: id.User, headers: id.Headers}
	c.mu.Lock()
	defer c.mu.Unlock()
	a.until = c.now().Add(c.ttl)
	if e := c.m[k]; e != nil {
		e.Value = a
		c.lru.MoveToFront(e)
		return
	}
	for len(c.m) >= c.max {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.m, last.Value.(*admission).key)
	}
	c.m[k] = c.lru.PushFront(a)
}
