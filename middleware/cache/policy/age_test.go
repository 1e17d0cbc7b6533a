package policy

import (
	"net/http"
	"testing"
	"time"
)

func TestCurrentAge(t *testing.T) {
	req := t0.Add(-2 * time.Second) // request sent 2 s before the response arrived
	resp := t0
	tests := []struct {
		name string
		h    http.Header
		req  time.Time // default req
		now  time.Time // default resp
		want time.Duration
	}{
		{name: "9111 4.2.3 a fresh response from the origin: response_delay only", h: hdr("Date", httpDate(t0)), want: secs(2)},
		{name: "9111 4.2.3 resident_time is added", h: hdr("Date", httpDate(t0)), now: t0.Add(100 * time.Second), want: secs(102)},
		{name: "9111 4.2.3 corrected_age_value = age_value + response_delay", h: hdr("Date", httpDate(t0), "Age", "30"), want: secs(32)},
		{name: "9111 4.2.3 apparent_age wins when larger than corrected_age_value", h: hdr("Date", httpDate(t0.Add(-60*time.Second)), "Age", "30"), want: secs(60)},
		{name: "9111 4.2.3 corrected_age_value wins when larger than apparent_age", h: hdr("Date", httpDate(t0.Add(-10*time.Second)), "Age", "30"), want: secs(32)},
		{name: "9111 4.2.3 a negative apparent_age is replaced by zero", h: hdr("Date", httpDate(t0.Add(time.Hour))), want: secs(2)},
		{name: "9110 6.6.1 without Date, date_value is the response time", h: http.Header{}, now: t0.Add(5 * time.Second), want: secs(7)},
		{name: "9110 6.6.1 an invalid Date counts as missing", h: hdr("Date", "last tuesday", "Age", "3"), want: secs(5)},
		{name: "9111 4.2 a Date with a zone other than GMT is invalid", h: hdr("Date", "Fri, 01 Mar 2024 11:00:00 CET"), want: secs(2)},
		{name: "9111 5.1 a list-based Age uses its first member", h: hdr("Date", httpDate(t0), "Age", "30, 600"), want: secs(32)},
		{name: "9111 5.1 of several Age lines the first is used", h: hdr("Date", httpDate(t0), "Age", "30", "Age", "600"), want: secs(32)},
		{name: "9111 5.1 an invalid Age is ignored", h: hdr("Date", httpDate(t0), "Age", "-5"), want: secs(2)},
		{name: "9111 5.1 a non-integer Age is ignored", h: hdr("Date", httpDate(t0), "Age", "1.5"), want: secs(2)},
		{name: "9111 1.2.2 an overflowing Age counts as 2^31 seconds", h: hdr("Date", httpDate(t0), "Age", "99999999999999999999"), want: secs(2147483648)},
		{name: "9111 1.2.2 an overflowing calculation gives 2^31 seconds", h: hdr("Date", "Mon, 01 Jan 0001 00:00:00 GMT", "Age", "2147483648"), now: t0.Add(1000 * time.Hour), want: secs(2147483648)},
		{name: "9111 4.2.3 a request_time after the response_time counts as no delay", h: hdr("Date", httpDate(t0)), req: t0.Add(time.Minute), want: 0},
		{name: "9111 4.2.3 a clock that went back before the response gives no resident time", h: hdr("Date", httpDate(t0)), now: t0.Add(-time.Minute), want: secs(2)},
		{name: "9111 5.1 Age has a one-second resolution", h: hdr("Date", httpDate(t0)), now: t0.Add(1500 * time.Millisecond), want: secs(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq, now := tt.req, tt.now
			if rq.IsZero() {
				rq = req
			}
			if now.IsZero() {
				now = resp
			}
			if got := CurrentAge(tt.h, rq, resp, now); got != tt.want {
				t.Errorf("CurrentAge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAgeValue(t *testing.T) {
	tests := []struct {
		name string
		age  time.Duration
		want string
	}{
		{"9111 5.1 Age is a whole number of seconds", 1500 * time.Millisecond, "1"},
		{"9111 5.1 Age is never negative", -time.Second, "0"},
		{"9111 1.2.2 Age beyond 2^31 is sent as 2147483648", 100 * 365 * 24 * time.Hour, "2147483648"},
		{"9111 4 the Age of a response just stored", 0, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AgeValue(tt.age); got != tt.want {
				t.Errorf("AgeValue(%v) = %q, want %q", tt.age, got, tt.want)
			}
		})
	}
}

func TestCurrentAgeDoesNotAllocate(t *testing.T) {
	h := hdr("Date", httpDate(t0), "Age", "30")
	if n := testing.AllocsPerRun(100, func() { _ = CurrentAge(h, t0, t0, t0) }); n != 0 {
		t.Errorf("CurrentAge allocates %.0f times", n)
	}
}
