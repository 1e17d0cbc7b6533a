package upstream

import (
	"math"
	"net/http"
)

// hashBalancer is consistent hashing by weighted rendezvous (highest random
// weight) hashing: each target scores the request's key as
// -weight / ln(u), where u in (0,1) is a stable hash of the key and the
// target, and the highest usable score wins. Removing one of N targets
// remaps only the keys that were on it; adding one moves only its share of
// keys. When the key's first choice is unusable (down or already tried),
// the next-highest score wins, so a retry goes to the key's second choice.
// The hash is stable across processes (see key.go), so several Gatehouse
// instances agree. Stateless; safe for concurrent use.
type hashBalancer struct {
	targets []*Target
	key     HashKey // a header name in canonical form
	equal   bool    // all weights equal: compare raw hashes, skip the log
}

func newHash(targets []*Target, key HashKey) *hashBalancer {
	if key.Kind == KeyHeader {
		key.Name = http.CanonicalHeaderKey(key.Name)
	}
	equal := true
	for _, t := range targets {
		equal = equal && t.Weight == targets[0].Weight
	}
	return &hashBalancer{targets: targets, key: key, equal: equal}
}

// Pick returns the usable target with the highest score for the
// request's key, or nil.
func (b *hashBalancer) Pick(c *Choice) *Target {
	k := b.key.sum(c)
	var best *Target
	var top float64
	for _, t := range b.targets {
		if !c.Usable(t) {
			continue
		}
		if s := b.score(k, t); best == nil || s > top {
			best, top = t, s
		}
	}
	return best
}

// score is target t's rendezvous score for key hash k.
func (b *hashBalancer) score(k uint64, t *Target) float64 {
	h := mix64(k ^ t.hash)
	if b.equal {
		// -w/ln(u) is increasing in u, so for equal weights the raw
		// hash orders targets the same way.
		return float64(h >> 11)
	}
	u := (float64(h>>11) + 0.5) / (1 << 53)
	return float64(t.Weight) / -math.Log(u)
}

var _ Balancer = (*hashBalancer)(nil)
