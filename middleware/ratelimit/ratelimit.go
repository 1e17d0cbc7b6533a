// Package ratelimit limits how often requests may pass a route: each
// limit counts requests by a key (the client address, a header...) in a
// store (this process's memory, or Redis shared by every instance) with
// GCRA (package gcra), and refuses what exceeds it with 429 and
// Retry-After. Every response of a limited route carries the
// RateLimit-Policy and RateLimit headers of
// draft-ietf-httpapi-ratelimit-headers, refusals or not.
//
// The middleware runs once per request, before the upstream is chosen,
// so a request retried on another target counts once. Limits are checked
// in order and the first that refuses ends the check: a refused request
// has spent its unit in the limits before that one, none after.
package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Limit is one compiled limit of a route.
type Limit struct {
	// Name is the policy's name in the headers.
	Name string
	// Policy tells this limit's buckets apart from every other limit's in
	// a shared store; stable across reloads (the route and limit names).
	Policy string
	Key    Key
	Rate   gcra.Limit
	Store  store.Store
	// Refuse answers 400 to a request without the key's value; otherwise
	// such requests share one bucket.
	Refuse bool
	// Headers sends this limit in the RateLimit headers.
	Headers bool

	quoted string // Name as a structured-field string
}

// Options configure a route's limits. Validated by config.
type Options struct {
	Limits []Limit
}

// New returns the middleware, or nil when there are no limits.
// Refusals go to fail.
func New(o Options, fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	if len(o.Limits) == 0 {
		return nil
	}
	h := &handler{limits: slices.Clone(o.Limits), fail: fail}
	for i := range h.limits {
		l := &h.limits[i]
		l.quoted = strconv.Quote(l.Name)
		if !l.Headers {
			continue
		}
		if h.policy != "" {
			h.policy += ", "
		}
		h.policy += l.quoted + ";q=" + strconv.FormatInt(min(l.Rate.Burst, sfMaxInteger), 10) + ";w=" + strconv.FormatInt(seconds(l.Rate.Window()), 10)
		h.shown++
	}
	return func(next http.Handler) http.Handler {
		h := *h
		h.next = next
		return &h
	}
}

type handler struct {
	limits []Limit
	policy string // the RateLimit-Policy value, the same for every response
	shown  int    // limits in the headers
	fail   func(http.ResponseWriter, *http.Request, error)
	next   http.Handler
}

// errMissingKey refuses a request without the value a limit counts by;
// errStoreDown one a store with on_error: deny cannot decide.
var (
	errMissingKey = &funnel.Class{Status: http.StatusBadRequest, Message: "bad request: the request lacks what this route's rate limit counts by"}
	errStoreDown  = &funnel.Class{Status: http.StatusServiceUnavailable, Message: "service unavailable: the rate limit cannot be checked now"}
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := reqinfo.From(r.Context())
	var rw *writer
	var buf [4]gcra.Result
	results := buf[:0]
	if h.shown > 0 {
		// The writer carries the results to the header, so they live in
		// it: one allocation for both.
		rw = &writer{h: h}
		results = rw.buf[:0]
	}
	for i := range h.limits {
		l := &h.limits[i]
		key, ok := l.Key.value(r, info)
		if !ok && l.Refuse {
			h.fail(w, r, h.withHeaders(fmt.Errorf("rate limit %q: %w", l.Name, errMissingKey), results, false))
			return
		}
		res, err := l.Store.Take(r.Context(), store.Bucket{Policy: l.Policy, Key: key}, l.Rate, 1)
		if err != nil {
			if errors.Is(err, store.ErrUnavailable) {
				err = fmt.Errorf("rate limit %q: %w (on_error: deny): %w", l.Name, err, errStoreDown)
			} else {
				err = fmt.Errorf("rate limit %q: %w", l.Name, err) // the client left
			}
			h.fail(w, r, h.withHeaders(err, results, false))
			return
		}
		results = append(results, res)
		if !res.Allowed {
			h.refuse(w, r, l, results)
			return
		}
	}
	if rw == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	rw.results = results
	rw.Reset(w, rw)
	h.next.ServeHTTP(rw, r)
}

// refuse answers 429 with Retry-After and the headers. Retry-After is
// when every limit decided so far lets a request pass again: the
// refusing one, and any this request emptied (it spent their last unit
// before the refusal), shown or not. On the 429, an empty limit's t is
// that same wait for it, so Retry-After is never earlier than the end
// of the window of a policy that has nothing left (the draft's section
// 6), and a client that waits Retry-After is let through.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, l *Limit, results []gcra.Result) {
	var wait time.Duration
	for i, res := range results {
		wait = max(wait, h.untilNext(i, res))
	}
	retry := strconv.FormatInt(seconds(wait), 10)
	err := funnel.WithHeader(fmt.Errorf("rate limit %q exceeded: %w", l.Name, funnel.ErrTooManyRequests), "Retry-After", retry)
	h.fail(w, r, h.withHeaders(err, results, true))
}

// untilNext is how long until limit i lets one more request pass, after
// res: nothing while it has units left; for the limit that refused, its
// RetryAfter; for one this request emptied, until a unit is back (its
// Reset less the Burst-1 intervals that refill after that one).
func (h *handler) untilNext(i int, res gcra.Result) time.Duration {
	switch {
	case !res.Allowed:
		return res.RetryAfter
	case res.Remaining > 0:
		return 0
	}
	rate := h.limits[i].Rate
	return max(res.Reset-time.Duration(rate.Burst-1)*rate.Interval, 0)
}

// withHeaders attaches the RateLimit headers to a refusal the funnel
// answers: the policy, and the state of the limits decided so far.
// tooMany is set for a 429, whose empty limits state when they let a
// request pass (see refuse).
func (h *handler) withHeaders(err error, results []gcra.Result, tooMany bool) error {
	if h.shown == 0 {
		return err
	}
	err = funnel.WithHeader(err, "RateLimit-Policy", h.policy)
	if st := h.state(results, tooMany); st != "" {
		err = funnel.WithHeader(err, "RateLimit", st)
	}
	return err
}

// sfMaxInteger is the largest Integer a structured field may hold (RFC
// 9651 3.3.1: 15 digits). A burst above it is stated as this much,
// which promises less than the limit allows, never more.
const sfMaxInteger = 999_999_999_999_999

// state is the RateLimit value: each shown limit's remaining units and
// seconds until they count again in full; on a 429 (tooMany), for a
// limit with none left, until it lets the refused request pass. Limits
// not reached (after a refusal) are left out.
func (h *handler) state(results []gcra.Result, tooMany bool) string {
	var b strings.Builder
	b.Grow(40 * len(results))
	var num [20]byte
	for i, res := range results {
		l := &h.limits[i]
		if !l.Headers {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.quoted)
		b.WriteString(";r=")
		b.Write(strconv.AppendInt(num[:0], min(res.Remaining, sfMaxInteger), 10))
		b.WriteString(";t=")
		t := res.Reset
		if tooMany && (res.Remaining == 0 || !res.Allowed) {
			t = h.untilNext(i, res)
		}
		b.Write(strconv.AppendInt(num[:0], seconds(t), 10))
	}
	return b.String()
}

// seconds rounds d up to whole seconds: a client told to wait 0 seconds
// would come back at once.
func seconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// writer adds the headers to whatever response the route sends, however
// it is written (a cache hit, an upstream's answer, a funnel error).
type writer struct {
	wrap.Writer
	h       *handler
	results []gcra.Result
	buf     [4]gcra.Result
	vals    [2]string
}

// BeforeHeader adds this route's limits after any the upstream states
// for its own (the fields are lists).
func (w *writer) BeforeHeader(int) {
	hd := w.Header()
	w.vals[0], w.vals[1] = w.h.policy, w.h.state(w.results, false)
	hd["Ratelimit-Policy"] = appendField(hd["Ratelimit-Policy"], w.vals[0:1:1])
	hd["Ratelimit"] = appendField(hd["Ratelimit"], w.vals[1:2:2])
}

// appendField adds ours to the values already there without allocating
// when there are none (the usual case).
func appendField(have, ours []string) []string {
	if len(have) == 0 {
		return ours
	}
	return append(have, ours...)
}

var _ wrap.Hooks = (*writer)(nil)
