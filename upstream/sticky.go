package upstream

import (
	"net/http"
	"strconv"
	"time"
)

// sticky is cookie-based session affinity. A request whose cookie names a
// usable target's ID goes there; any other request is balanced by smooth
// weighted round robin, and Stamp then sets the cookie to the target that
// answered. IDs are opaque hashes (see targetID), so the cookie does not
// reveal backend addresses. Safe for concurrent use.
type sticky struct {
	rr     *roundRobin
	cookie string
	set    []string // Set-Cookie value per target, by Target.idx
}

// newSticky precomputes each target's Set-Cookie value.
func newSticky(targets []*Target, c StickyCookie) *sticky {
	b := &sticky{rr: newRoundRobin(targets), cookie: c.Name, set: make([]string, len(targets))}
	for i, t := range targets {
		v := c.Name + "=" + t.ID + "; Path=/"
		if c.MaxAge > 0 {
			v += "; Max-Age=" + strconv.FormatInt(int64(max(c.MaxAge/time.Second, 1)), 10)
		}
		v += "; HttpOnly; SameSite=Lax"
		if c.Secure {
			v += "; Secure"
		}
		b.set[i] = v
	}
	return b
}

// Pick returns the target named by the request's cookie if it is usable,
// else the next usable one in round robin order, or nil.
func (b *sticky) Pick(c *Choice) *Target {
	if id, ok := b.requested(c); ok {
		for _, t := range b.rr.targets {
			if t.ID == id {
				if c.Usable(t) {
					return t
				}
				break
			}
		}
	}
	return b.rr.Pick(c)
}

// Stamp sets the cookie to t, unless the request already carried it.
func (b *sticky) Stamp(h http.Header, c *Choice, t *Target) {
	if id, ok := b.requested(c); ok && id == t.ID {
		return
	}
	if t.idx < 0 || t.idx >= len(b.set) || b.rr.targets[t.idx] != t {
		return // not one of ours
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], b.set[t.idx])
}

// requested returns the cookie value the request carries, if any.
func (b *sticky) requested(c *Choice) (string, bool) {
	if c.Req == nil {
		return "", false
	}
	return cookieValue(c.Req.Header, b.cookie)
}

var (
	_ Balancer = (*sticky)(nil)
	_ Stamper  = (*sticky)(nil)
)
