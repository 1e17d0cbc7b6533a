package policy

import (
	"net/http"
	"strconv"
	"time"
)

// Options tunes the choices RFC 9111 leaves to a cache. The zero value
// gives the defaults.
type Options struct {
	// HeuristicFraction is the share of the time since Last-Modified that
	// a response without explicit freshness stays fresh (4.2.2). Zero means
	// 0.1, the RFC's "typical setting"; negative (or NaN) disables
	// heuristic freshness.
	HeuristicFraction float64
	// HeuristicMax caps a heuristic lifetime. Zero means 24 hours.
	HeuristicMax time.Duration
}

func (o Options) fraction() float64 {
	if o.HeuristicFraction == 0 {
		return 0.1
	}
	return o.HeuristicFraction
}

func (o Options) heuristicMax() time.Duration {
	if o.HeuristicMax <= 0 {
		return 24 * time.Hour
	}
	return o.HeuristicMax
}

// maxDuration is maxDelta seconds, the "infinity" of RFC 9111 1.2.2.
const maxDuration = maxDelta * time.Second

// HeuristicallyCacheable reports whether RFC 9110 defines status as
// heuristically cacheable (RFC 9110 15.1; RFC 9111 4.2.2 calls them so):
// 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414 and 501.
func HeuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// FreshnessLifetime computes a response's freshness lifetime for a shared
// cache (RFC 9111 4.2.1), the first that applies of:
//
//  1. zero when d.Invalid (malformed or conflicting max-age or s-maxage,
//     4.2.1: considered stale);
//  2. s-maxage;
//  3. max-age (Expires is then ignored, 5.3);
//  4. Expires minus Date, Date being responseTime when missing or invalid
//     (RFC 9110 6.6.1); an invalid Expires, "0" included, or several
//     different Expires lines give zero (5.3: "already expired");
//  5. a heuristic (4.2.2), only for a status that is heuristically
//     cacheable or a response marked public: HeuristicFraction of Date
//     minus Last-Modified, at most HeuristicMax; heuristic is true then.
//     Without a usable Last-Modified the lifetime is zero.
//
// The result is never negative and at most 2^31 seconds (1.2.2). d is the
// response's parsed Cache-Control (with any Surrogate-Control applied, see
// ApplySurrogate). FreshnessLifetime does not allocate.
func FreshnessLifetime(status int, h http.Header, d Directives, responseTime time.Time, o Options) (lifetime time.Duration, heuristic bool) {
	switch {
	case d.Invalid:
		return 0, false
	case d.SMaxAge >= 0:
		return time.Duration(d.SMaxAge) * time.Second, false
	case d.MaxAge >= 0:
		return time.Duration(d.MaxAge) * time.Second, false
	}
	date, ok := headerDate(h, "Date", responseTime)
	if !ok {
		date = responseTime
	}
	if len(h["Expires"]) > 0 {
		exp, ok := headerDate(h, "Expires", responseTime)
		if !ok {
			return 0, false
		}
		return clampDuration(exp.Sub(date)), false
	}
	if !HeuristicallyCacheable(status) && !d.Public {
		return 0, false
	}
	frac := o.fraction()
	if !(frac > 0) { // negative, or NaN
		return 0, false
	}
	lm, ok := headerDate(h, "Last-Modified", responseTime)
	if !ok || !lm.Before(date) {
		return 0, false
	}
	// In floating point, so that a large interval or fraction caps
	// instead of overflowing.
	life, limit := float64(date.Sub(lm))*frac, o.heuristicMax()
	if life >= float64(limit) {
		return clampDuration(limit), true
	}
	return clampDuration(time.Duration(life)), true
}

// clampDuration bounds d to [0, 2^31 s].
func clampDuration(d time.Duration) time.Duration {
	return max(0, min(d, maxDuration))
}

// CurrentAge computes a stored response's current age (RFC 9111 4.2.3),
// with the conservative corrected_initial_age the section offers:
//
//	apparent_age          = max(0, response_time - date_value)
//	response_delay        = response_time - request_time
//	corrected_age_value   = age_value + response_delay
//	corrected_initial_age = max(apparent_age, corrected_age_value)
//	resident_time         = now - response_time
//	current_age           = corrected_initial_age + resident_time
//
// date_value is responseTime when Date is missing or invalid (RFC 9110
// 6.6.1: the recipient supplies the time it received the message).
// age_value is the first member of the first Age line; when that is not a
// non-negative integer the field is ignored (5.1: "a cache SHOULD ignore
// the field"), so age_value is 0. A negative response_delay or
// resident_time (a clock that went backwards) counts as zero. The result
// is in whole seconds (Age has a one-second resolution), never negative,
// and at most 2^31 seconds (1.2.2). It does not allocate.
//
// h is the header of the stored response as last received from the
// origin: after a 304 freshens it, requestTime and responseTime are those
// of the validation exchange.
func CurrentAge(h http.Header, requestTime, responseTime, now time.Time) time.Duration {
	date, ok := headerDate(h, "Date", responseTime)
	if !ok {
		date = responseTime
	}
	apparent := clampDuration(responseTime.Sub(date))
	delay := clampDuration(responseTime.Sub(requestTime))
	corrected := clampDuration(ageValue(h) + delay)
	resident := clampDuration(now.Sub(responseTime))
	age := clampDuration(max(apparent, corrected) + resident)
	return age.Truncate(time.Second)
}

// ageValue returns the Age field's value (5.1), or 0 when it is absent or
// invalid.
func ageValue(h http.Header) time.Duration {
	lines := h["Age"]
	if len(lines) == 0 {
		return 0
	}
	first, _ := nextMember(lines[0])
	v, ok := parseDelta(first)
	if !ok {
		return 0
	}
	return time.Duration(v) * time.Second
}

// AgeValue formats age as the value of the Age field a cache must send
// with a stored response it reuses without validation (RFC 9111 4 and
// 5.1): whole seconds, never negative, at most 2147483648 (1.2.2).
func AgeValue(age time.Duration) string {
	return strconv.FormatInt(int64(clampDuration(age)/time.Second), 10)
}
