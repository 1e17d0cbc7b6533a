package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// verified remembers the tokens that verified, so that a client sending
// the same token request after request pays its signature check (tens of
// microseconds for RS256, over a hundred for ES256) once per ttl rather
// than every time. A token is kept by its SHA-256 (never as itself) with
// the identity it gave, until it expires (exp plus the leeway) or for at
// most ttl, whichever is sooner: a key the IdP withdraws stops admitting
// its tokens within ttl, and at once when the token was checked against a
// key set that has since been fetched again (the entry remembers the set
// it was checked with). Only admissions are kept; every other answer is
// worked out again. At most maxVerified tokens are kept, in shards, each
// with its own lock; a full shard forgets its expired tokens, or an
// arbitrary half.
//
// The identities are shared by the requests that present the token, and
// never modified.
type verified struct {
	ttl    time.Duration
	shards [16]verifiedShard
}

type verifiedShard struct {
	mu sync.Mutex
	m  map[[32]byte]verifiedToken
}

type verifiedToken struct {
	id    *reqinfo.Identity
	until time.Time
	set   *keySet // the key set when it verified; nil without one
}

// maxVerified bounds the tokens kept (about 1 KiB each with a few
// claims).
const maxVerified = 16 * 1024

func newVerified(ttl time.Duration) *verified {
	v := &verified{ttl: ttl}
	for i := range v.shards {
		v.shards[i].m = map[[32]byte]verifiedToken{}
	}
	return v
}

func (v *verified) shard(k *[32]byte) *verifiedShard { return &v.shards[k[0]%16] }

// get returns the identity tok gave, if it verified, is still kept and
// was checked with the key set that is current.
func (v *verified) get(tok string, now time.Time, set *keySet) (*reqinfo.Identity, [32]byte, bool) {
	k := sha256.Sum256([]byte(tok))
	s := v.shard(&k)
	s.mu.Lock()
	e, ok := s.m[k]
	s.mu.Unlock()
	if !ok || !now.Before(e.until) || e.set != set {
		return nil, k, false
	}
	return e.id, k, true
}

// put keeps id for the token with digest k until exp (zero: none) or
// ttl from now; set is the key set it was checked with.
func (v *verified) put(k [32]byte, id *reqinfo.Identity, now, exp time.Time, set *keySet) {
	until := now.Add(v.ttl)
	if !exp.IsZero() && exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	s := v.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxVerified/len(v.shards) {
		n := 0
		for key, e := range s.m {
			if !now.Before(e.until) || n%2 == 0 {
				delete(s.m, key)
			}
			n++
		}
	}
	s.m[k] = verifiedToken{id: id, until: until, set: set}
}
