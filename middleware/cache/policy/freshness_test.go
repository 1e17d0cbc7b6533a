package policy

import (
	"net/http"
	"testing"
	"time"
)

func TestFreshnessLifetime(t *testing.T) {
	date := httpDate(t0)
	tests := []struct {
		name          string
		status        int // 200 when 0
		h             http.Header
		o             Options
		want          time.Duration
		wantHeuristic bool
	}{
		{name: "9111 4.2.1 a shared cache uses s-maxage first", h: hdr("Cache-Control", "max-age=60, s-maxage=600", "Expires", httpDate(t0.Add(time.Hour)), "Date", date), want: secs(600)},
		{name: "9111 4.2.1 max-age before Expires", h: hdr("Cache-Control", "max-age=60", "Expires", httpDate(t0.Add(time.Hour)), "Date", date), want: secs(60)},
		{name: "9111 5.3 a recipient MUST ignore Expires when max-age is present", h: hdr("Cache-Control", "max-age=60", "Expires", "0"), want: secs(60)},
		{name: "9111 5.3 a shared cache MUST ignore Expires when s-maxage is present", h: hdr("Cache-Control", "s-maxage=60", "Expires", "garbage"), want: secs(60)},
		{name: "9111 4.2.1 Expires minus Date", h: hdr("Expires", httpDate(t0.Add(time.Hour)), "Date", date), want: time.Hour},
		{name: "9111 4.2.1 Expires minus the response time when Date is missing", h: hdr("Expires", httpDate(t0.Add(90*time.Second))), want: secs(90)},
		{name: "9111 4.2.1 Expires minus the response time when Date is invalid", h: hdr("Expires", httpDate(t0.Add(90*time.Second)), "Date", "yesterday"), want: secs(90)},
		{name: "9111 4.2.1 Expires before Date gives zero", h: hdr("Expires", httpDate(t0.Add(-time.Hour)), "Date", date), want: 0},
		{name: "9111 5.3 an invalid Expires is already expired", h: hdr("Expires", "tomorrow", "Date", date, "Last-Modified", httpDate(t0.Add(-100*time.Hour))), want: 0},
		{name: "9111 5.3 Expires: 0 is already expired", h: hdr("Expires", "0", "Date", date), want: 0},
		{name: "9111 4.2.1 two different Expires lines make the response stale", h: hdr("Expires", httpDate(t0.Add(time.Hour)), "Expires", httpDate(t0.Add(2*time.Hour)), "Date", date), want: 0},
		{name: "9111 4.2.1 two identical Expires lines are used", h: hdr("Expires", httpDate(t0.Add(time.Hour)), "Expires", httpDate(t0.Add(time.Hour)), "Date", date), want: time.Hour},
		{name: "9111 4.2 a date with a zone other than GMT is invalid for expiration", h: hdr("Expires", "Fri, 01 Mar 2024 13:00:00 UTC", "Date", date), want: 0},
		{name: "9111 4.2 Expires is matched case-insensitively", h: hdr("Expires", "FRI, 01 MAR 2024 13:00:00 gmt", "Date", date), want: time.Hour},
		{name: "9111 4.2.1 invalid max-age makes the response stale", h: hdr("Cache-Control", "max-age=abc", "Expires", httpDate(t0.Add(time.Hour))), want: 0},
		{name: "9111 4.2.1 conflicting max-age makes the response stale", h: hdr("Cache-Control", "max-age=60, max-age=600"), want: 0},
		{name: "9111 1.2.2 an overflowing max-age is 2^31 seconds", h: hdr("Cache-Control", "max-age=1000000000000"), want: secs(2147483648)},
		{name: "9111 4.2.1 a lifetime from Expires is capped at 2^31 seconds", h: hdr("Expires", "Fri, 01 Mar 9999 13:00:00 GMT", "Date", date), want: secs(2147483648)},
		{name: "9111 4.2.2 heuristic: 10% of the time since Last-Modified", h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), want: time.Hour, wantHeuristic: true},
		{name: "9111 4.2.2 heuristic fraction is configurable", h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), o: Options{HeuristicFraction: 0.5}, want: 5 * time.Hour, wantHeuristic: true},
		{name: "9111 4.2.2 heuristic lifetime is capped", h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(-1000*time.Hour))), want: 24 * time.Hour, wantHeuristic: true},
		{name: "9111 4.2.2 a huge interval or fraction gives the cap, not an overflow", h: hdr("Date", date, "Last-Modified", "Mon, 01 Jan 0001 00:00:00 GMT"), o: Options{HeuristicFraction: 10}, want: 24 * time.Hour, wantHeuristic: true},
		{name: "9111 4.2.2 heuristic cap is configurable", h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(-1000*time.Hour))), o: Options{HeuristicMax: time.Hour}, want: time.Hour, wantHeuristic: true},
		{name: "9111 4.2.2 heuristics can be disabled", h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), o: Options{HeuristicFraction: -1}, want: 0},
		{name: "9111 4.2.2 heuristic uses the response time when Date is missing", h: hdr("Last-Modified", httpDate(t0.Add(-10*time.Hour))), want: time.Hour, wantHeuristic: true},
		{name: "9111 4.2.2 no heuristic without Last-Modified", h: hdr("Date", date), want: 0},
		{name: "9111 4.2.2 no heuristic when Last-Modified is not before Date", h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(time.Hour))), want: 0},
		{name: "9111 4.2.2 MUST NOT use heuristics when an explicit expiration time is present", h: hdr("Cache-Control", "max-age=0", "Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), want: 0},
		{name: "9111 4.2.2 MUST NOT use heuristics when Expires is present, even invalid", h: hdr("Expires", "-1", "Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), want: 0},
		{name: "9111 4.2.2 heuristics only for a heuristically cacheable status", status: 302, h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), want: 0},
		{name: "9111 4.2.2 heuristics for a 404", status: 404, h: hdr("Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), want: time.Hour, wantHeuristic: true},
		{name: "9111 5.2.2.9 public makes a response heuristically cacheable", status: 302, h: hdr("Cache-Control", "public", "Date", date, "Last-Modified", httpDate(t0.Add(-10*time.Hour))), want: time.Hour, wantHeuristic: true},
		{name: "edge-arch Surrogate-Control max-age gives the lifetime", h: hdr("Cache-Control", "max-age=5", "Surrogate-Control", "max-age=500"), want: secs(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == 0 {
				status = 200
			}
			d := ApplySurrogate(ParseCacheControl(tt.h), tt.h)
			got, heuristic := FreshnessLifetime(status, tt.h, d, t0, tt.o)
			if got != tt.want || heuristic != tt.wantHeuristic {
				t.Errorf("FreshnessLifetime = %v, %v; want %v, %v", got, heuristic, tt.want, tt.wantHeuristic)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		ref  time.Time
		want time.Time // zero: invalid
	}{
		{name: "9110 5.6.7 IMF-fixdate", in: "Sun, 06 Nov 1994 08:49:37 GMT", want: want},
		{name: "9110 5.6.7 obsolete RFC 850 format", in: "Sunday, 06-Nov-94 08:49:37 GMT", want: want},
		{name: "9110 5.6.7 obsolete asctime format", in: "Sun Nov  6 08:49:37 1994", want: want},
		{name: "9110 5.6.7 asctime with a two-digit day", in: "Sun Nov 16 08:49:37 1994", want: want.AddDate(0, 0, 10)},
		{name: "9111 4.2 dates are matched case-insensitively", in: "sun, 06 nov 1994 08:49:37 gmt", want: want},
		{name: "9111 4.2 a zone other than GMT is invalid", in: "Sun, 06 Nov 1994 08:49:37 PST"},
		{name: "9111 4.2 a zone other than GMT is invalid in RFC 850 dates", in: "Sunday, 06-Nov-94 08:49:37 EST"},
		{name: "9110 5.6.7 an RFC 850 year more than 50 years ahead is in the past", in: "Sunday, 06-Nov-94 08:49:37 GMT", ref: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), want: want},
		{name: "9110 5.6.7 an RFC 850 year at most 50 years ahead is in the future", in: "Monday, 06-Nov-50 08:49:37 GMT", ref: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), want: time.Date(2050, time.November, 6, 8, 49, 37, 0, time.UTC)},
		{name: "9110 5.6.7 leading and trailing whitespace is allowed", in: "  Sun, 06 Nov 1994 08:49:37 GMT ", want: want},
		{name: "9110 5.6.7 a day the month does not have is invalid", in: "Sun, 31 Nov 1994 08:49:37 GMT"},
		{name: "9110 5.6.7 a bad hour is invalid", in: "Sun, 06 Nov 1994 25:49:37 GMT"},
		{name: "9110 5.6.7 a missing zone is invalid", in: "Sun, 06 Nov 1994 08:49:37"},
		{name: "9110 5.6.7 trailing garbage is invalid", in: "Sun, 06 Nov 1994 08:49:37 GMT x"},
		{name: "9110 5.6.7 a bare number is invalid", in: "0"},
		{name: "9110 5.6.7 an unknown day name is invalid", in: "Sol, 06 Nov 1994 08:49:37 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseDate(tt.in, tt.ref)
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Errorf("parseDate(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
			}
		})
	}
	t.Run("9111 4.2 local time zones do not influence the parsed date", func(t *testing.T) {
		got, ok := parseDate("Sun, 06 Nov 1994 08:49:37 GMT", time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 5*3600)))
		if !ok || got.Location() != time.UTC || got.Hour() != 8 {
			t.Errorf("parseDate = %v (%v), want 08:49:37 UTC", got, got.Location())
		}
	})
}

func TestEvaluate(t *testing.T) {
	fresh := Freshness{Lifetime: secs(600), Age: secs(100)}
	stale := func(by int) Freshness { return Freshness{Lifetime: secs(600), Age: secs(600 + by)} }
	tests := []struct {
		name string
		req  string
		resp string
		f    Freshness
		want Use
	}{
		{name: "9111 4.2 a fresh response is served", resp: "max-age=600", f: fresh, want: UseFresh},
		{name: "9111 4.2 a response whose age equals its lifetime is stale", resp: "max-age=600", f: stale(0), want: UseValidate},
		{name: "9111 4.2.4 a stale response is not served without permission", resp: "max-age=600", f: stale(1), want: UseValidate},
		{name: "9111 4 a response with no-cache is validated even when fresh", resp: "max-age=600, no-cache", f: fresh, want: UseValidate},
		{name: "9111 5.2.2.4 a qualified no-cache does not force validation", resp: `max-age=600, no-cache="Set-Cookie"`, f: fresh, want: UseFresh},
		{name: "9111 5.2.1.4 request no-cache: validate", req: "no-cache", resp: "max-age=600", f: fresh, want: UseValidate},
		{name: "9111 5.2.1.1 request max-age below the age: validate", req: "max-age=60", resp: "max-age=600", f: fresh, want: UseValidate},
		{name: "9111 5.2.1.1 request max-age at least the age: fresh", req: "max-age=100", resp: "max-age=600", f: fresh, want: UseFresh},
		{name: "9111 5.2.1.1 request max-age=0: validate", req: "max-age=0", resp: "max-age=600", f: fresh, want: UseValidate},
		{name: "9111 5.2.1.1 request max-age malformed: validate", req: "max-age=x", resp: "max-age=600", f: fresh, want: UseValidate},
		{name: "9111 5.2.1.1 request max-age without max-stale does not accept stale", req: "max-age=1000", resp: "max-age=600", f: stale(10), want: UseValidate},
		{name: "9111 5.2.1.3 min-fresh unmet: validate", req: "min-fresh=501", resp: "max-age=600", f: fresh, want: UseValidate},
		{name: "9111 5.2.1.3 min-fresh met: fresh", req: "min-fresh=500", resp: "max-age=600", f: fresh, want: UseFresh},
		{name: "9111 5.2.1.2 max-stale with a value accepts that much staleness", req: "max-stale=60", resp: "max-age=600", f: stale(60), want: UseStale},
		{name: "9111 5.2.1.2 max-stale with a value refuses more", req: "max-stale=60", resp: "max-age=600", f: stale(61), want: UseValidate},
		{name: "9111 5.2.1.2 max-stale without a value serves a response stale by any amount", req: "max-stale", resp: "max-age=600", f: stale(1e6), want: UseStale},
		{name: "9111 5.2.1.5 request no-store does not prevent using a stored response", req: "no-store", resp: "max-age=600", f: fresh, want: UseFresh},
		{name: "9111 5.2.1.2 max-stale with max-age: the age limit still holds", req: "max-stale, max-age=650", resp: "max-age=600", f: stale(100), want: UseValidate},
		{name: "9111 5.2.1.2 max-stale with min-fresh: min-fresh wins", req: "max-stale, min-fresh=1", resp: "max-age=600", f: stale(10), want: UseValidate},
		{name: "9111 5.2.2.2 must-revalidate: no stale use, even with max-stale", req: "max-stale", resp: "max-age=600, must-revalidate", f: stale(1), want: UseValidate},
		{name: "9111 5.2.2.2 must-revalidate does not affect a fresh response", resp: "max-age=600, must-revalidate", f: fresh, want: UseFresh},
		{name: "9111 5.2.2.8 proxy-revalidate: no stale use by a shared cache", req: "max-stale", resp: "max-age=600, proxy-revalidate", f: stale(1), want: UseValidate},
		{name: "9111 5.2.2.10 s-maxage: no stale use by a shared cache", req: "max-stale", resp: "s-maxage=600", f: stale(1), want: UseValidate},
		{name: "9111 4.2.4 must-revalidate outweighs stale-while-revalidate", resp: "max-age=600, must-revalidate, stale-while-revalidate=60", f: stale(1), want: UseValidate},
		{name: "9111 4.2.4 s-maxage outweighs stale-while-revalidate", resp: "s-maxage=600, stale-while-revalidate=60", f: stale(1), want: UseValidate},
		{name: "9111 4.2.4 no-cache outweighs stale-while-revalidate", resp: "no-cache, stale-while-revalidate=60", f: stale(1), want: UseValidate},
		{name: "5861 3 stale within stale-while-revalidate: serve and revalidate", resp: "max-age=600, stale-while-revalidate=30", f: stale(30), want: UseStaleRevalidate},
		{name: "5861 3 past stale-while-revalidate: the response is truly stale", resp: "max-age=600, stale-while-revalidate=30", f: stale(31), want: UseValidate},
		{name: "5861 3 a request max-age, even one the age meets, refuses a stale response", req: "max-age=1000", resp: "max-age=600, stale-while-revalidate=30", f: stale(1), want: UseValidate},
		{name: "5861 3 a request max-age with max-stale lets stale-while-revalidate apply", req: "max-age=1000, max-stale=10", resp: "max-age=600, stale-while-revalidate=30", f: stale(1), want: UseStaleRevalidate},
		{name: "5861 3 stale-while-revalidate yields to the request max-age", req: "max-age=0", resp: "max-age=600, stale-while-revalidate=30", f: stale(1), want: UseValidate},
		{name: "5861 3 stale-while-revalidate is preferred to max-stale, to refresh the cache", req: "max-stale", resp: "max-age=600, stale-while-revalidate=30", f: stale(1), want: UseStaleRevalidate},
		{name: "5861 4 stale-if-error does not allow stale use without an error", resp: "max-age=600, stale-if-error=3600", f: stale(1), want: UseValidate},
		{name: "8246 2.1 a fresh immutable response is not revalidated on a reload (max-age=0)", req: "max-age=0", resp: "max-age=600, immutable", f: fresh, want: UseFresh},
		{name: "8246 2.1 immutable ignores min-fresh while fresh", req: "min-fresh=1000", resp: "max-age=600, immutable", f: fresh, want: UseFresh},
		{name: "8246 2.1 a request no-cache still validates an immutable response", req: "no-cache", resp: "max-age=600, immutable", f: fresh, want: UseValidate},
		{name: "8246 2 a stale immutable response is revalidated as usual", resp: "max-age=600, immutable", f: stale(1), want: UseValidate},
		{name: "8246 2 immutable in a request has no effect", req: "immutable, max-age=0", resp: "max-age=600", f: fresh, want: UseValidate},
		{name: "9111 4.2.2 a zero lifetime (no freshness) is validated", resp: "", f: Freshness{}, want: UseValidate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(cc(tt.req), cc(tt.resp), tt.f); got != tt.want {
				t.Errorf("Evaluate(%q, %q, %+v) = %v, want %v", tt.req, tt.resp, tt.f, got, tt.want)
			}
		})
	}
}

func TestStaleIfErrorAllowed(t *testing.T) {
	fresh := Freshness{Lifetime: secs(600), Age: secs(100)}
	stale := func(by int) Freshness { return Freshness{Lifetime: secs(600), Age: secs(600 + by)} }
	tests := []struct {
		name string
		req  string
		resp string
		f    Freshness
		want bool
	}{
		{name: "5861 4 response stale-if-error allows a stale response on error", resp: "max-age=600, stale-if-error=1200", f: stale(300), want: true},
		{name: "5861 4 past stale-if-error the error is written through", resp: "max-age=600, stale-if-error=1200", f: stale(1201), want: false},
		{name: "5861 4 the limit is inclusive", resp: "max-age=600, stale-if-error=1200", f: stale(1200), want: true},
		{name: "5861 4 request stale-if-error applies to the request it appears in", req: "stale-if-error=60", resp: "max-age=600", f: stale(60), want: true},
		{name: "5861 4 request stale-if-error limit", req: "stale-if-error=60", resp: "max-age=600", f: stale(61), want: false},
		{name: "9111 5.2.1.2 max-stale lets a stale response answer on error", req: "max-stale=100", resp: "max-age=600", f: stale(100), want: true},
		{name: "9111 4.2.4 no permission: no stale response on error", resp: "max-age=600", f: stale(1), want: false},
		{name: "9111 4.3.3 a fresh response may answer when validation failed", req: "no-cache", resp: "max-age=600", f: fresh, want: true},
		{name: "9111 5.2.2.2 must-revalidate outweighs stale-if-error: an error instead", resp: "max-age=600, must-revalidate, stale-if-error=1200", f: stale(1), want: false},
		{name: "9111 5.2.2.8 proxy-revalidate outweighs stale-if-error", resp: "max-age=600, proxy-revalidate, stale-if-error=1200", f: stale(1), want: false},
		{name: "9111 5.2.2.10 s-maxage outweighs stale-if-error", req: "stale-if-error=100", resp: "s-maxage=600, stale-if-error=1200", f: stale(1), want: false},
		{name: "9111 5.2.2.4 no-cache: never served without validation, even fresh", resp: "max-age=600, no-cache, stale-if-error=1200", f: fresh, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StaleIfErrorAllowed(cc(tt.req), cc(tt.resp), tt.f); got != tt.want {
				t.Errorf("StaleIfErrorAllowed(%q, %q, %+v) = %v, want %v", tt.req, tt.resp, tt.f, got, tt.want)
			}
		})
	}
}

func TestMustNotServeStale(t *testing.T) {
	tests := []struct {
		name string
		resp string
		want bool
	}{
		{"9111 5.2.2.2 must-revalidate: a disconnected cache answers with an error", "max-age=60, must-revalidate", true},
		{"9111 5.2.2.8 proxy-revalidate applies to a shared cache", "proxy-revalidate", true},
		{"9111 5.2.2.10 s-maxage implies proxy-revalidate for a shared cache", "s-maxage=60", true},
		{"9111 5.2.2.10 a malformed s-maxage still implies proxy-revalidate", "s-maxage=x", true},
		{"9111 5.2.2.4 no-cache", "no-cache", true},
		{"9111 4.2.4 max-age alone allows stale use when permitted", "max-age=60", false},
		{"9111 5.2.2.4 a qualified no-cache allows stale use when permitted", `no-cache="Set-Cookie"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MustNotServeStale(cc(tt.resp)); got != tt.want {
				t.Errorf("MustNotServeStale(%q) = %v", tt.resp, got)
			}
		})
	}
}
