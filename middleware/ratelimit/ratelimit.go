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
		h.policy += l.quoted + ";q=" + strconv.FormatInt(l.Rate.Burst, 10) + ";w=" + strconv.FormatInt(seconds(l.Rate.Window()), 10)
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
			h.fail(w, r, h.withHeaders(fmt.Errorf("rate limit %q: %w", l.Name, errMissingKey), results))
			return
		}
		res, err := l.Store.Take(r.Context(), store.Bucket{Policy: l.Policy, Key: key}, l.Rate, 1)
		if err != nil {
			if errors.Is(err, store.ErrUnavailable) {
				err = fmt.Errorf("rate limit %q: %w (on_error: deny): %w", l.Name, err, errStoreDown)
			} else {
				err = fmt.Errorf("rate limit %q: %w", l.Name, err) // the client left
			}
			h.fail(w, r, h.withHeaders(err, results))
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

// refuse answers 429 with Retry-After and the headers, whose t for the
// refusing limit is the same moment (as the draft asks).
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, l *Limit, results []gcra.Result) {
	retry := strconv.FormatInt(seconds(results[len(results)-1].RetryAfter), 10)
	err := funnel.WithHeader(fmt.Errorf("rate limit %q exceeded: %w", l.Name, funnel.ErrTooManyRequests), "Retry-After", retry)
	h.fail(w, r, h.withHeaders(err, results))
}

// withHeaders attaches the RateLimit headers to a refusal the funnel
// answers: the policy, and the state of the limits decided so far.
func (h *handler) withHeaders(err error, results []gcra.Result) error {
	if h.shown == 0 {
		return err
	}
	err = funnel.WithHeader(err, "RateLimit-Policy", h.policy)
	if st := h.state(results); st != "" {
		err = funnel.WithHeader(err, "RateLimit", st)
	}
	return err
}

// state is the RateLimit value: each shown limit's remaining units and
// seconds until they count again in full; for a refusing limit, until
// the refused request would pass. Limits not reached (after a refusal)
// are left out.
func (h *handler) state(results []gcra.Result) string {
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
		b.Write(strconv.AppendInt(num[:0], res.Remaining, 10))
		b.WriteString(";t=")
		t := res.Reset
		if !res.Allowed {
			t = res.RetryAfter
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
	w.vals[0], w.vals[1] = w.h.policy, w.h.state(w.results)
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
