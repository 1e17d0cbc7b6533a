package gcra

import (
	"math"
	"testing"
	"time"
)

const ms = int64(time.Millisecond)

// step is one spend in a sequence against one key.
type step struct {
	at      int64 // ms after the start
	n       int64
	allowed bool
	remain  int64
	retry   time.Duration
	reset   time.Duration
}

func TestDecide(t *testing.T) {
	// 10 per second, burst 3: one unit back every 100ms, a full
	// allowance 300ms after the last spend.
	l := Per(10, time.Second, 3)
	start := int64(1_700_000_000) * int64(time.Second)
	for _, tc := range []struct {
		name  string
		l     Limit
		steps []step
	}{
		{"a new key has its whole burst", l, []step{
			{0, 1, true, 2, 0, 100 * time.Millisecond},
			{0, 1, true, 1, 0, 200 * time.Millisecond},
			{0, 1, true, 0, 0, 300 * time.Millisecond},
		}},
		{"the spend past the burst is denied until one interval passes", l, []step{
			{0, 3, true, 0, 0, 300 * time.Millisecond},
			{0, 1, false, 0, 100 * time.Millisecond, 300 * time.Millisecond},
			{99, 1, false, 0, time.Millisecond, 201 * time.Millisecond},
			{100, 1, true, 0, 0, 300 * time.Millisecond},
		}},
		{"a denied spend costs nothing", l, []step{
			{0, 3, true, 0, 0, 300 * time.Millisecond},
			{50, 1, false, 0, 50 * time.Millisecond, 250 * time.Millisecond},
			{50, 1, false, 0, 50 * time.Millisecond, 250 * time.Millisecond},
			{100, 1, true, 0, 0, 300 * time.Millisecond},
		}},
		{"idle time refills, but never beyond the burst", l, []step{
			{0, 3, true, 0, 0, 300 * time.Millisecond},
			{10_000, 1, true, 2, 0, 100 * time.Millisecond},
			{10_000, 2, true, 0, 0, 300 * time.Millisecond},
			{10_000, 1, false, 0, 100 * time.Millisecond, 300 * time.Millisecond},
		}},
		{"exactly at the TAT the allowance is full", l, []step{
			{0, 2, true, 1, 0, 200 * time.Millisecond},
			{200, 3, true, 0, 0, 300 * time.Millisecond},
		}},
		{"partial refill counts whole units only", l, []step{
			{0, 3, true, 0, 0, 300 * time.Millisecond},
			{150, 1, true, 0, 0, 250 * time.Millisecond}, // 1.5 units back: one spent, half left
			{199, 1, false, 0, time.Millisecond, 201 * time.Millisecond},
			{200, 1, true, 0, 0, 300 * time.Millisecond},
		}},
		{"a spend larger than the burst is never allowed", l, []step{
			{0, 4, false, 0, 300 * time.Millisecond, 0},
			{0, 3, true, 0, 0, 300 * time.Millisecond},
		}},
		{"the zero limit allows nothing", Limit{}, []step{
			{0, 1, false, 0, time.Second, 0},
		}},
		{"burst 1 is a strict interval", Per(1, time.Second, 1), []step{
			{0, 1, true, 0, 0, time.Second},
			{999, 1, false, 0, time.Millisecond, time.Millisecond},
			{1000, 1, true, 0, 0, time.Second},
		}},
		{"burst 0 means a period's count", Per(5, time.Second, 0), []step{
			{0, 5, true, 0, 0, time.Second},
			{0, 1, false, 0, 200 * time.Millisecond, time.Second},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tat int64
			for i, s := range tc.steps {
				var r Result
				tat, r = tc.l.Decide(tat, start+s.at*ms, s.n)
				want := Result{Allowed: s.allowed, Remaining: s.remain, RetryAfter: s.retry, Reset: s.reset}
				if r != want {
					t.Errorf("step %d (spend %d at +%dms): %+v, want %+v", i, s.n, s.at, r, want)
				}
			}
		})
	}
}

// Over any span t, at most Burst + t/Interval units pass, however the
// spends are timed: the property a fixed window lacks.
func TestNoBoundaryBurst(t *testing.T) {
	l := Per(100, 10*time.Second, 100)
	var tat, now int64
	allowed := 0
	// Hammer every millisecond for 20s.
	for now = 0; now <= 20_000*ms; now += ms {
		var r Result
		if tat, r = l.Decide(tat, now, 1); r.Allowed {
			allowed++
		}
	}
	if want := 100 + 20_000/100; allowed != want {
		t.Errorf("allowed %d over 20s of hammering, want burst + 20s/100ms = %d", allowed, want)
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		l    Limit
		want bool
	}{
		{Per(10, time.Second, 20), true},
		{Limit{Interval: time.Hour, Burst: int64(MaxWindow / time.Hour)}, true},
		{Limit{Interval: time.Hour, Burst: int64(MaxWindow/time.Hour) + 1}, false},
		{Limit{Interval: time.Duration(math.MaxInt64 / 2), Burst: math.MaxInt64}, false},
		{Limit{Interval: time.Second}, false},
		{Limit{Burst: 1}, false},
	} {
		if got := tc.l.Valid(); got != tc.want {
			t.Errorf("%+v.Valid() = %v, want %v", tc.l, got, tc.want)
		}
		if _, r := tc.l.Decide(0, 1, 1); r.Allowed != tc.want {
			t.Errorf("%+v: a first spend allowed = %v, want %v", tc.l, r.Allowed, tc.want)
		}
	}
	if w := (Limit{Interval: time.Duration(math.MaxInt64 / 2), Burst: math.MaxInt64}).Window(); w != time.Duration(math.MaxInt64) {
		t.Errorf("Window of an overflowing limit = %v, want saturated", w)
	}
}

func TestPer(t *testing.T) {
	for _, tc := range []struct {
		count  int64
		period time.Duration
		burst  int64
		want   Limit
	}{
		{10, time.Second, 20, Limit{100 * time.Millisecond, 20}},
		{1000, time.Hour, 0, Limit{3600 * time.Millisecond, 1000}},
		{3, time.Nanosecond, 1, Limit{1, 1}}, // never a zero interval
		{0, time.Second, 5, Limit{}},
	} {
		if got := Per(tc.count, tc.period, tc.burst); got != tc.want {
			t.Errorf("Per(%d, %v, %d) = %+v, want %+v", tc.count, tc.period, tc.burst, got, tc.want)
		}
	}
	if w := Per(10, time.Second, 20).Window(); w != 2*time.Second {
		t.Errorf("Window of 10/s burst 20 = %v, want 2s", w)
	}
}
