// Package cache is Gatehouse's shared HTTP cache (RFC 9111), as route
// middleware. It answers GET and HEAD from a store when the stored
// response may be used (fresh, or stale where the origin and the client
// allow it), revalidates stale responses with conditional requests,
// collapses concurrent misses of one key into one upstream request,
// refreshes in the background within stale-while-revalidate, serves stale
// on errors within stale-if-error, and invalidates what unsafe requests
// change. Every answer says what the cache did in Cache-Status (RFC 9211).
//
// The rules themselves (what may be stored, freshness, age, validation,
// Vary) live in package policy; this package is the request flow around
// them. Stores live in package store and outlive reloads.
package cache

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/cache/policy"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Options configures the cache of one route. Read once, by New.
type Options struct {
	// Store holds the responses. Required. Shared by the routes naming
	// the same cache, and kept across reloads by the caller.
	Store store.Store
	// Key tunes the primary key.
	Key KeyOptions
	// BypassCookies and BypassHeaders: a request with any of them skips
	// the cache (forwarded, its response not stored).
	BypassCookies []string
	BypassHeaders []string
	// PurgeFrom are the client addresses allowed to send PURGE; empty
	// refuses PURGE with 405.
	PurgeFrom []netip.Prefix
	// LockTimeout bounds how long a request waits for another request's
	// miss of the same key. Default 5s.
	LockTimeout time.Duration
	// RevalidateTimeout bounds a background revalidation. Default 60s.
	RevalidateTimeout time.Duration
	// NormalizeEncoding maps a request's Accept-Encoding to the one
	// coding it selects (as the route's compression would negotiate), so
	// that Vary: Accept-Encoding keeps one variant per coding rather than
	// one per browser. Nil compares the field as policy.NormalizeValue
	// does.
	NormalizeEncoding func(acceptEncoding string) string
	// Policy tunes heuristic freshness.
	Policy policy.Options
	// Fail answers refusals (only-if-cached misses, PURGE refusals)
	// through the error funnel. Required.
	Fail func(w http.ResponseWriter, r *http.Request, err error)
	// Log receives what the cache notices besides refusals (a failed
	// store write, a background revalidation that failed). Nil discards.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Name is the cache's name in Cache-Status.
const Name = "Gatehouse"

// staleKeep is how long past its freshness a response with a validator
// is kept: a stale response that can be revalidated with a 304 saves
// the origin a body.
const staleKeep = time.Hour

// handler is the cache in front of one route's action.
type handler struct {
	next    http.Handler
	o       Options
	keys    *keyer
	flights flights // misses and revalidations in progress, by key
	refresh flights // background revalidations, by key
	log     *slog.Logger
}

// New returns the cache middleware for o.
func New(o Options) func(http.Handler) http.Handler {
	if o.LockTimeout <= 0 {
		o.LockTimeout = 5 * time.Second
	}
	if o.RevalidateTimeout <= 0 {
		o.RevalidateTimeout = 60 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		return &handler{next: next, o: o, keys: newKeyer(o.Key), log: log}
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case "PURGE":
		h.purge(w, r)
		return
	default:
		if policy.IsUnsafe(r.Method) {
			h.forwardUnsafe(w, r)
			return
		}
		h.next.ServeHTTP(w, r)
		return
	}
	if reason := h.bypass(r); reason != "" {
		w.Header()["Cache-Status"] = []string{Name + "; fwd=bypass; detail=" + reason}
		h.next.ServeHTTP(w, r)
		return
	}
	info := reqinfo.From(r.Context())
	x := &exchange{h: h, r: r, info: info, key: h.keys.key(r, info), rd: policy.RequestDirectives(r.Header)}
	x.run(w)
}

// bypass says why r skips the cache, or "" when it does not.
func (h *handler) bypass(r *http.Request) string {
	if _, ok := r.Header["Upgrade"]; ok {
		return "upgrade"
	}
	if _, ok := r.Header["Range"]; ok {
		return "range"
	}
	if policy.HasOriginPreconditions(r.Header) {
		return "precondition" // If-Match and the like are the origin's to judge (RFC 9111 4.3.2)
	}
	for _, name := range h.o.BypassHeaders {
		if _, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
			return "header"
		}
	}
	for _, name := range h.o.BypassCookies {
		if _, err := r.Cookie(name); err == nil {
			return "cookie"
		}
	}
	return ""
}

// now is the handler's clock.
func (h *handler) now() time.Time { return h.o.Now() }

// candidate is a stored variant that matches the request, decoded.
type candidate struct {
	v   store.Variant
	obj *object
}

// lookup returns the stored variants of key that match r's Vary fields,
// the most recent first (RFC 9111 4.1: when several match, the most
// recent is used), and how many variants key has. A store error counts
// as nothing stored.
func (h *handler) lookup(ctx context.Context, key string, r *http.Request, dst []candidate) ([]candidate, int) {
	vs, err := h.o.Store.Lookup(ctx, key)
	if err != nil || len(vs) == 0 {
		return nil, 0
	}
	out := h.matching(dst, vs, r)
	if deep, ok := h.o.Store.(deepLookup); ok && len(out) == 0 {
		// The tier in front had other variants only; the shared tier
		// behind it may hold the one this request selects.
		if all, err := deep.LookupAll(ctx, key); err == nil && len(all) > len(vs) {
			vs = all
			out = h.matching(dst, vs, r)
		}
	}
	if len(out) > 1 {
		slices.SortStableFunc(out, func(a, b candidate) int {
			return b.obj.date().Compare(a.obj.date())
		})
	}
	return out, len(vs)
}

// deepLookup is a store with tiers that Lookup may stop at the first of.
type deepLookup interface {
	LookupAll(ctx context.Context, key string) ([]store.Variant, error)
}

// matching appends to out the variants that match r's Vary fields.
func (h *handler) matching(out []candidate, vs []store.Variant, r *http.Request) []candidate {
	for _, v := range vs {
		obj := objectOf(v)
		if obj == nil || obj.star || !h.varyMatches(obj, r) {
			continue
		}
		out = append(out, candidate{v: v, obj: obj})
	}
	return out
}

// objectOf returns the decoded form of a stored variant: the one the
// store kept, or freshly decoded.
func objectOf(v store.Variant) *object {
	if o, ok := v.Value.(*object); ok {
		return o
	}
	o, err := decodeObject(v.Meta)
	if err != nil {
		return nil
	}
	return o
}

// date is the response's Date, or when it was received.
func (o *object) date() time.Time {
	if t, err := http.ParseTime(headerValue(o.header, "Date")); err == nil {
		return t
	}
	return o.responseTime
}

func headerValue(h http.Header, name string) string {
	if vs := h[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// absent stands for a request field that is not there, which only
// matches another request without it (RFC 9111 4.1).
const absent = "\x00"

// varyValue is the normalized value of request field name for comparing
// secondary keys.
func (h *handler) varyValue(r *http.Request, name string) string {
	vs, ok := r.Header[name]
	if !ok {
		return absent
	}
	if name == "Accept-Encoding" && h.o.NormalizeEncoding != nil {
		return h.o.NormalizeEncoding(strings.Join(vs, ","))
	}
	return policy.NormalizeValue(name, vs)
}

func (h *handler) varyMatches(o *object, r *http.Request) bool {
	for i, name := range o.varyNames {
		if h.varyValue(r, name) != o.varyValues[i] {
			return false
		}
	}
	return true
}
