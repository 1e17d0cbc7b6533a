package store

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Tiered store's background work: the invalidation subscription and
// the probe that ends a degraded spell.

// listen holds a subscription to the invalidation channel, subscribing
// again a second after it breaks, until ctx ends. A subscription that
// follows a gap empties memory: what was published meanwhile is lost.
func (t *Tiered) listen(ctx context.Context) {
	defer t.wg.Done()
	gap := false
	for ctx.Err() == nil {
		ps := t.back.subscribe(ctx)
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = ps.Close()
			return
		}
		t.ps = ps
		t.mu.Unlock()
		t.receive(ctx, ps, &gap)
		_ = ps.Close()
		gap = true
		select {
		case <-ctx.Done():
			return
		case <-time.After(probeInterval):
		}
	}
}

// receive handles one subscription's messages until it fails. An idle
// subscription is pinged; one that answers neither is taken as broken.
func (t *Tiered) receive(ctx context.Context, ps *redis.PubSub, gap *bool) {
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, pingInterval)
		if err != nil {
			var ne net.Error
			if ctx.Err() != nil || pinged || !errors.As(err, &ne) || !ne.Timeout() {
				return
			}
			if err := ps.Ping(ctx); err != nil {
				return
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if *gap {
				t.front.purgeAll()
				t.log.Info("redis invalidations resumed; memory tier emptied, as some may have been missed")
			}
			*gap = false
		case *redis.Message:
			t.apply(m.Payload)
		}
	}
}

// watch probes Redis once a second while degraded; when it answers, the
// queued invalidations are sent and Redis is used again.
func (t *Tiered) watch(ctx context.Context) {
	defer t.wg.Done()
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if t.degraded.Load() && t.back.ping(ctx) == nil && t.replay(ctx) {
			t.log.Info("redis available again, serving from memory and redis")
		}
	}
}

// replay sends the queued invalidations and ends the degraded spell; it
// reports false, still degraded, if Redis fails meanwhile.
func (t *Tiered) replay(ctx context.Context) bool {
	for {
		t.mu.Lock()
		batch, lost := t.pending, t.lost
		t.pending, t.lost = nil, 0
		if len(batch) == 0 {
			t.degraded.Store(false)
			t.mu.Unlock()
			return true
		}
		t.mu.Unlock()
		if lost > 0 {
			t.log.Warn("invalidations made while redis was unavailable were dropped; redis may still hold what they purged", "dropped", lost)
		}
		for i, inv := range batch {
			if _, err := t.applyBack(ctx, inv); err != nil {
				t.counts.redisErrors.Add(1)
				t.mu.Lock()
				t.pending = append(batch[i:], t.pending...)
				t.mu.Unlock()
				return false
			}
		}
	}
}
