package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tiered is a Store with a Memory in front of a Redis that several
// Gatehouse instances share.
//
// A Lookup tries memory, then Redis; a Redis hit is copied into memory
// while its body is written out, if it fits. Memory answers alone for a
// key it holds any variant of: a variant of that key that only Redis has
// (another instance stored it) is then a miss here. Writes stream to both tiers,
// and a tier that fails drops out of that write without failing it.
// Updates go to both. Deletes and purges go to both and are published on
// the prefix's invalidation channel, so that every other instance drops
// its memory copies too.
//
// When Redis fails (a network error or a timeout) the store logs one
// warning and serves from memory alone: no Redis call is made by a
// request until a background probe, once a second, gets an answer again;
// then it logs once more. Nothing is returned to the caller as an error.
// Deletes and purges made meanwhile are queued (at most 1024) and sent to
// Redis on recovery. Invalidations published while this instance was not
// subscribed are lost, so on subscribing again it empties its memory.
type Tiered struct {
	front *Memory
	back  *Redis
	log   *slog.Logger
	id    string // names this instance in the invalidations it publishes

	degraded  atomic.Bool
	counts    tierCounts
	promoting sync.Map // key + "\x00" + variant ID: promotions under way

	mu      sync.Mutex
	pending []invalidation // made while degraded, for Redis on recovery
	lost    int            // invalidations pending could not hold
	ps      *redis.PubSub  // the current subscription
	closed  bool

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// TierStats counts what a Tiered store did since it was created.
type TierStats struct {
	MemoryHits uint64 // lookups answered by memory
	RedisHits  uint64 // lookups answered by Redis
	Misses     uint64 // lookups neither tier answered
	Promotions uint64 // Redis hits copied into memory
	// RedisErrors counts failed Redis operations, outages or not.
	RedisErrors uint64
	// Degraded is true while Redis is taken as down.
	Degraded              bool
	InvalidationsSent     uint64
	InvalidationsReceived uint64
}

type tierCounts struct {
	memoryHits, redisHits, misses, promotions, redisErrors, sent, received atomic.Uint64
}

// invalidation is a Delete ('d'), PurgePrefix ('p') or PurgeTag ('t').
type invalidation struct {
	op  byte
	arg string
}

const (
	probeInterval = time.Second     // between probes while degraded, and resubscriptions
	pingInterval  = 5 * time.Second // idle time after which the subscription is checked
	maxPending    = 1024
	instanceIDLen = 16
)

// NewTiered returns a store with front before back, and starts its
// subscription and probe goroutines. A nil log discards. Close closes
// front and back too.
func NewTiered(front *Memory, back *Redis, log *slog.Logger) *Tiered {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var raw [instanceIDLen / 2]byte
	_, _ = rand.Read(raw[:])
	ctx, cancel := context.WithCancel(context.Background())
	t := &Tiered{front: front, back: back, log: log, id: hex.EncodeToString(raw[:]), cancel: cancel}
	t.wg.Add(2)
	go t.listen(ctx)
	go t.watch(ctx)
	return t
}

// Lookup returns memory's variants if it has any, else Redis's; it never
// fails.
func (t *Tiered) Lookup(ctx context.Context, key string) ([]Variant, error) {
	if vs, _ := t.front.Lookup(ctx, key); len(vs) > 0 {
		t.counts.memoryHits.Add(1)
		return vs, nil
	}
	if t.degraded.Load() {
		t.counts.misses.Add(1)
		return nil, nil
	}
	vs, err := t.back.Lookup(ctx, key)
	if err != nil || len(vs) == 0 {
		t.observe(ctx, err)
		t.counts.misses.Add(1)
		return nil, nil
	}
	t.counts.redisHits.Add(1)
	for i, v := range vs {
		vs[i].Body = &promotingBody{t: t, key: key, v: v}
	}
	return vs, nil
}

// LookupAll is Lookup that asks Redis even when memory holds variants of
// key, and returns both tiers' variants (memory's copy where both have
// one). The cache calls it when none of memory's variants matches the
// request's Vary fields: another instance may have stored the one that
// does.
func (t *Tiered) LookupAll(ctx context.Context, key string) ([]Variant, error) {
	vs, _ := t.front.Lookup(ctx, key)
	if t.degraded.Load() {
		return vs, nil
	}
	back, err := t.back.Lookup(ctx, key)
	if err != nil {
		t.observe(ctx, err)
		return vs, nil
	}
	for _, v := range back {
		if slices.ContainsFunc(vs, func(m Variant) bool { return m.ID == v.ID }) {
			continue
		}
		v.Body = &promotingBody{t: t, key: key, v: v}
		vs = append(vs, v)
	}
	return vs, nil
}

// Create starts a write to both tiers; it fails only if neither takes it.
func (t *Tiered) Create(ctx context.Context, key, id string, e Entry, size int64) (Writer, error) {
	w := &tieredWriter{t: t, ctx: ctx}
	if m, err := t.front.Create(ctx, key, id, e, size); err != nil {
		w.keep(err)
	} else {
		w.m = m
	}
	if !t.degraded.Load() {
		if r, err := t.back.Create(ctx, key, id, e, size); err != nil {
			w.keep(err)
		} else {
			w.r = r
		}
	}
	if w.m == nil && w.r == nil {
		return nil, w.err
	}
	return w, nil
}

// Update freshens the variant in both tiers.
func (t *Tiered) Update(ctx context.Context, key, id string, e Entry) error {
	_ = t.front.Update(ctx, key, id, e)
	if !t.degraded.Load() {
		t.observe(ctx, t.back.Update(ctx, key, id, e))
	}
	return nil
}

// Delete drops key from both tiers and from the other instances' memory.
func (t *Tiered) Delete(ctx context.Context, key string) error {
	_ = t.front.Delete(ctx, key)
	t.invalidate(ctx, invalidation{'d', key})
	return nil
}

// PurgePrefix purges both tiers and the other instances' memory; it
// returns the larger of the tiers' counts.
func (t *Tiered) PurgePrefix(ctx context.Context, prefix string) (int, error) {
	n, _ := t.front.PurgePrefix(ctx, prefix)
	return max(n, t.invalidate(ctx, invalidation{'p', prefix})), nil
}

// PurgeTag purges both tiers and the other instances' memory; it returns
// the larger of the tiers' counts.
func (t *Tiered) PurgeTag(ctx context.Context, tag string) (int, error) {
	n, _ := t.front.PurgeTag(ctx, tag)
	return max(n, t.invalidate(ctx, invalidation{'t', tag})), nil
}

// Close stops the goroutines and closes both tiers.
func (t *Tiered) Close() error {
	t.closeOnce.Do(func() {
		t.cancel()
		t.mu.Lock()
		t.closed = true
		if t.ps != nil {
			_ = t.ps.Close()
		}
		t.mu.Unlock()
		t.wg.Wait()
		t.closeErr = errors.Join(t.front.Close(), t.back.Close())
	})
	return t.closeErr
}

// Stats returns the counters.
func (t *Tiered) Stats() TierStats {
	c := &t.counts
	return TierStats{
		MemoryHits:            c.memoryHits.Load(),
		RedisHits:             c.redisHits.Load(),
		Misses:                c.misses.Load(),
		Promotions:            c.promotions.Load(),
		RedisErrors:           c.redisErrors.Load(),
		Degraded:              t.degraded.Load(),
		InvalidationsSent:     c.sent.Load(),
		InvalidationsReceived: c.received.Load(),
	}
}

// observe counts a Redis error, and takes Redis as down at the first
// failure to reach it. Errors of the caller's context, of the data and
// the server's own refusals leave it up.
func (t *Tiered) observe(ctx context.Context, err error) {
	if err == nil || ctx.Err() != nil || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBodyGone) {
		return
	}
	t.counts.redisErrors.Add(1)
	var reply redis.Error
	if errors.As(err, &reply) {
		return
	}
	if t.degraded.CompareAndSwap(false, true) {
		t.log.Warn("redis unavailable, serving from memory only", "error", err)
	}
}

// invalidate applies inv to Redis and publishes it, or queues it while
// Redis is down. It returns Redis's count.
func (t *Tiered) invalidate(ctx context.Context, inv invalidation) int {
	t.mu.Lock()
	if t.degraded.Load() {
		t.queue(inv)
		t.mu.Unlock()
		return 0
	}
	t.mu.Unlock()
	n, err := t.applyBack(ctx, inv)
	if err != nil {
		t.observe(ctx, err)
		t.mu.Lock()
		if t.degraded.Load() {
			t.queue(inv)
		}
		t.mu.Unlock()
	}
	return n
}

// queue keeps inv for recovery; t.mu is held.
func (t *Tiered) queue(inv invalidation) {
	if len(t.pending) >= maxPending {
		t.lost++
		return
	}
	t.pending = append(t.pending, inv)
}

// applyBack applies inv to Redis and publishes it.
func (t *Tiered) applyBack(ctx context.Context, inv invalidation) (int, error) {
	var n int
	var err error
	switch inv.op {
	case 'd':
		err = t.back.Delete(ctx, inv.arg)
	case 'p':
		n, err = t.back.PurgePrefix(ctx, inv.arg)
	case 't':
		n, err = t.back.PurgeTag(ctx, inv.arg)
	}
	if err != nil {
		return n, err
	}
	if err := t.back.publish(ctx, t.id+string(inv.op)+inv.arg); err != nil {
		return n, err
	}
	t.counts.sent.Add(1)
	return n, nil
}

// apply carries out an invalidation another instance published.
func (t *Tiered) apply(msg string) {
	if len(msg) <= instanceIDLen || msg[:instanceIDLen] == t.id {
		return
	}
	t.counts.received.Add(1)
	op, arg, ctx := msg[instanceIDLen], msg[instanceIDLen+1:], context.Background()
	switch op {
	case 'd':
		_ = t.front.Delete(ctx, arg)
	case 'p':
		_, _ = t.front.PurgePrefix(ctx, arg)
	case 't':
		_, _ = t.front.PurgeTag(ctx, arg)
	}
}

var _ Store = (*Tiered)(nil)
