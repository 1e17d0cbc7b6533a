// Package policy holds the HTTP caching rules of Gatehouse's shared cache:
// what may be stored (RFC 9111 section 3), how fresh a stored response is
// (4.2), what it may do for a request (4.2.4, 5.2, RFC 5861, RFC 8246),
// how it is validated and freshened (4.3), how Vary selects it (4.1),
// what an unsafe request invalidates (4.4), and how the outcome is
// reported (Cache-Status, RFC 9211).
//
// Everything here is pure: no I/O, no clock (times are passed in), no
// state. Functions that take an http.Header read it and never modify it,
// except Freshen, which updates the stored header it is given. The cache
// is always a shared cache in RFC 9111's sense: s-maxage applies, private
// responses are not stored, Authorization restricts storage.
//
// The cache middleware owns the flows: choosing among stored responses,
// collapsing requests, revalidating in the background, answering
// only-if-cached with 504, generating Age, removing Surrogate-Control.
// requirements.md lists every requirement of the RFCs that applies to a
// shared cache, with the place it is met (this package or the middleware)
// and the test that checks it.
//
// A request's path through the package, roughly:
//
//	rd := RequestDirectives(r.Header)
//	// look up the stored responses of the URI; keep those whose
//	// VaryKey(names, r.Header) equals the one recorded at storage
//	// (names, star := ParseVary(stored)); pick one with MostRecent
//	sd := ApplySurrogate(ParseCacheControl(stored), stored)
//	life, _ := FreshnessLifetime(status, stored, sd, responseTime, opts)
//	f := Freshness{Lifetime: life, Age: CurrentAge(stored, requestTime, responseTime, now)}
//	switch Evaluate(rd, sd, f) {
//	case UseFresh, UseStale, UseStaleRevalidate:
//		// EvaluateConditional, ServeHeader, Age: AgeValue(f.Age)
//	case UseValidate:
//		// ValidatorsFor; on 304: SelectFor304, Freshen; on error:
//		// StaleIfErrorAllowed, else MustNotServeStale => 504
//	}
//	// a response from the origin: Storable, StoredHeader;
//	// an unsafe request: InvalidationTargets
package policy
