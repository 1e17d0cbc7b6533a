package policy

import "time"

// Use is what a stored response may do for a request (RFC 9111 4, 4.2,
// 4.2.4, 5.2.1, 5.2.2; RFC 5861; RFC 8246).
type Use int

const (
	// UseFresh: serve the stored response without contacting the origin.
	UseFresh Use = iota
	// UseStale: the response is stale but the request's max-stale accepts
	// it and nothing in the response forbids stale use.
	UseStale
	// UseStaleRevalidate: stale within the response's
	// stale-while-revalidate window (RFC 5861 3): serve it now and
	// revalidate in the background.
	UseStaleRevalidate
	// UseValidate: the origin must be asked first (a conditional request,
	// see ValidatorsFor).
	UseValidate
)

func (u Use) String() string {
	switch u {
	case UseFresh:
		return "fresh"
	case UseStale:
		return "stale"
	case UseStaleRevalidate:
		return "stale-while-revalidate"
	case UseValidate:
		return "validate"
	}
	return "Use(?)"
}

// Freshness is a stored response's freshness lifetime (FreshnessLifetime)
// and current age (CurrentAge), both at the moment of the request.
type Freshness struct{ Lifetime, Age time.Duration }

// Fresh reports whether the response is fresh: its lifetime exceeds its
// age (RFC 9111 4.2).
func (f Freshness) Fresh() bool { return f.Lifetime > f.Age }

// staleness is how long the response has been stale (0 when fresh).
func (f Freshness) staleness() time.Duration { return max(0, f.Age-f.Lifetime) }

// Evaluate decides what the stored response with directives resp and
// freshness f may do for a request with directives req. The rules, in
// order:
//
//  1. An unqualified no-cache in the response (5.2.2.4) or the request
//     (5.2.1.4; request directives are advisory, 5.2.1, and the cache
//     honours this one) means UseValidate. A qualified no-cache does not:
//     the middleware strips its fields instead (ServeHeader).
//  2. A fresh response with immutable (RFC 8246 2.1: proxies "SHOULD skip
//     conditionally revalidating fresh responses ... unless there is a
//     signal from the client that a validation is necessary", the signal
//     being no-cache, rule 1) is UseFresh, whatever the request's max-age
//     or min-fresh (a browser reload sends max-age=0).
//  3. A request whose max-age is malformed (req.Invalid), whose max-age is
//     below the age (5.2.1.1), or whose min-fresh asks for more remaining
//     freshness than is left (5.2.1.3) means UseValidate.
//  4. A fresh response is UseFresh.
//  5. A stale response that must not be served stale (MustNotServeStale:
//     must-revalidate 5.2.2.2, proxy-revalidate 5.2.2.8, s-maxage 5.2.2.10)
//     means UseValidate, whatever the stale extensions say (4.2.4: a cache
//     "MUST NOT generate a stale response if it is prohibited by an
//     explicit in-protocol directive"; the most restrictive directive
//     wins, 4.2.1).
//  6. Stale by no more than stale-while-revalidate (RFC 5861 3) is
//     UseStaleRevalidate, unless the request has max-age without a
//     max-stale that accepts the staleness (5.2.1.1: such a client "does
//     not wish to receive a stale response").
//  7. Stale by no more than the request's max-stale, or max-stale without
//     a value (5.2.1.2), is UseStale.
//  8. Otherwise UseValidate (4.2.4: no stale response unless permitted).
//
// Evaluate does not decide whether the response may answer at all (URI,
// method, Vary: the middleware's selection) nor what to do when the
// origin cannot be reached (StaleIfErrorAllowed, MustNotServeStale).
func Evaluate(req Directives, resp Directives, f Freshness) Use {
	if resp.NoCache || req.NoCache {
		return UseValidate
	}
	fresh := f.Fresh()
	if fresh && resp.Immutable {
		return UseFresh
	}
	switch {
	case req.Invalid:
		return UseValidate
	case req.MaxAge >= 0 && f.Age > time.Duration(req.MaxAge)*time.Second:
		return UseValidate
	case req.MinFresh >= 0 && f.Lifetime-f.Age < time.Duration(req.MinFresh)*time.Second:
		return UseValidate
	}
	if fresh {
		return UseFresh
	}
	if MustNotServeStale(resp) {
		return UseValidate
	}
	stale := f.staleness()
	clientAccepts := req.MaxStaleAny || (req.MaxStale >= 0 && stale <= time.Duration(req.MaxStale)*time.Second)
	if resp.StaleWhileRevalidate >= 0 && stale <= time.Duration(resp.StaleWhileRevalidate)*time.Second &&
		(req.MaxAge < 0 || clientAccepts) {
		return UseStaleRevalidate
	}
	if clientAccepts {
		return UseStale
	}
	return UseValidate
}

// MustNotServeStale reports whether the response may never be served
// without a successful validation once stale, not even when the origin
// cannot be reached: must-revalidate (5.2.2.2), proxy-revalidate
// (5.2.2.8), s-maxage (5.2.2.10: it carries proxy-revalidate's semantics
// for a shared cache) or an unqualified no-cache (5.2.2.4: not even when
// fresh). When the origin cannot be reached the cache answers with an
// error, 504 (Gateway Timeout) unless another is more applicable
// (5.2.2.2).
func MustNotServeStale(resp Directives) bool {
	return resp.MustRevalidate || resp.ProxyRevalidate || resp.SMaxAge >= 0 || resp.NoCache
}

// StaleIfErrorAllowed reports whether the stored response may answer a
// request when the origin failed: an answer of 500, 502, 503 or 504, or
// none at all (RFC 5861 4: "an error is any situation which would result
// in a 500, 502, 503 or 504"). The middleware decides what an error is;
// this decides whether the stored response may stand in:
//
//   - never when MustNotServeStale (RFC 9111 4.2.4 and 5.2.2.2 forbid it
//     even though RFC 5861 4 says "regardless of other freshness
//     information": the later, stricter rule wins);
//   - always when the response is still fresh;
//   - when it has been stale for no longer than the response's
//     stale-if-error, or the request's (RFC 5861 4: either scope applies),
//     or the request's max-stale (5.2.1.2: the client accepts it).
//
// RFC 9111 4.2.4 also lets a disconnected cache serve stale responses
// without any of these permissions; that is a configuration choice the
// middleware makes, not a directive, and this function does not grant it.
func StaleIfErrorAllowed(req Directives, resp Directives, f Freshness) bool {
	if MustNotServeStale(resp) {
		return false
	}
	if f.Fresh() {
		return true
	}
	stale := f.staleness()
	within := func(limit int64) bool { return limit >= 0 && stale <= time.Duration(limit)*time.Second }
	return within(resp.StaleIfError) || within(req.StaleIfError) || req.MaxStaleAny || within(req.MaxStale)
}
