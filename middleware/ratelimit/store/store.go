// Package store keeps rate-limit state: one GCRA theoretical arrival
// time per bucket, in memory (Memory) or, shared by several Gatehouse
// processes, in Redis. A store lives in the environment, so a reload
// keeps every client's allowance.
package store

import (
	"context"

	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
)

// Store decides spends against stored state. Implementations are safe for
// concurrent use.
type Store interface {
	// Take spends n units of bucket b under limit l and reports the
	// decision. An error means the store could not decide (Redis down);
	// the caller applies its on_error rule.
	Take(ctx context.Context, b Bucket, l gcra.Limit, n int64) (gcra.Result, error)
}

// Bucket names one allowance: a policy (which limit of which route) and
// the key value it is counted by (a client address, an API key).
type Bucket struct {
	Policy string
	Key    string
}
