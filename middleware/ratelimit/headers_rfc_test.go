package ratelimit

// Test cases named after the requirements of
// draft-ietf-httpapi-ratelimit-headers-11 (the RateLimit-Policy and
// RateLimit fields), RFC 6585 section 4 (429) and RFC 9110 section
// 10.2.3 (Retry-After) that a server has; requirements.md lists them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// sfItem is one member of a structured-field List (RFC 9651 3.1): an
// Item whose bare item is a String or a Token, and its parameters.
type sfItem struct {
	name   string
	str    bool              // a String, not a Token
	params map[string]string // bare items as written
	keys   []string          // parameter names in order
}

var (
	sfKey     = regexp.MustCompile(`^[a-z*][a-z0-9_.*-]*`)
	sfBare    = regexp.MustCompile(`^(-?[0-9]{1,15}(\.[0-9]{1,3})?|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"|[A-Za-z*][!#$%&'*+\-.^_` + "`" + `|~0-9A-Za-z:/]*|:[A-Za-z0-9+/=]*:|\?[01])`)
	sfInteger = regexp.MustCompile(`^-?[0-9]{1,15}$`)
)

// parseSFList parses field lines as one List of Items, strictly: what
// it refuses a client would have to ignore (draft section 7).
func parseSFList(lines []string) ([]sfItem, error) {
	s := strings.Join(lines, ", ")
	var items []sfItem
	for {
		s = strings.TrimLeft(s, " ")
		bare := sfBare.FindString(s)
		if bare == "" || bare[0] != '"' && !('A' <= bare[0] && bare[0] <= 'z' || bare[0] == '*') {
			return nil, fmt.Errorf("not a String or Token item at %q", s)
		}
		it := sfItem{params: map[string]string{}, str: bare[0] == '"'}
		it.name = bare
		if it.str {
			it.name = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(bare[1 : len(bare)-1])
		}
		s = s[len(bare):]
		for strings.HasPrefix(s, ";") {
			s = strings.TrimLeft(s[1:], " ")
			key := sfKey.FindString(s)
			if key == "" {
				return nil, fmt.Errorf("bad parameter key at %q", s)
			}
			s = s[len(key):]
			val := "?1"
			if strings.HasPrefix(s, "=") {
				if val = sfBare.FindString(s[1:]); val == "" {
					return nil, fmt.Errorf("bad value for %s at %q", key, s)
				}
				s = s[1+len(val):]
			}
			if _, dup := it.params[key]; !dup {
				it.keys = append(it.keys, key)
			}
			it.params[key] = val
		}
		items = append(items, it)
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return items, nil
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("junk after an item: %q", s)
		}
		s = s[1:]
		if strings.TrimSpace(s) == "" {
			return nil, errors.New("a trailing comma")
		}
	}
}

// sfInt is a parameter that must be an Integer.
func sfInt(t *testing.T, it sfItem, key string) int64 {
	t.Helper()
	v, ok := it.params[key]
	if !ok || !sfInteger.MatchString(v) {
		t.Fatalf("%s: %s=%q is not an Integer", it.name, key, v)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// fakeClock is a settable time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// limiter is a route's limits on a memory store with a fake clock, in
// front of a backend answering status (200 by default).
type limiter struct {
	clk     *fakeClock
	h       http.Handler
	backend func(w http.ResponseWriter)
}

func newLimiter(t *testing.T, limits ...Limit) *limiter {
	t.Helper()
	l := &limiter{clk: &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	mem := store.NewMemory(1<<10, l.clk.now)
	key, err := ParseKey("client_ip", 32, 64)
	if err != nil {
		t.Fatal(err)
	}
	for i := range limits {
		if limits[i].Store == nil {
			limits[i].Store = mem
		}
		if limits[i].Key.parts == nil {
			limits[i].Key = key
		}
		limits[i].Policy = "route\x00" + limits[i].Name
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.backend != nil {
			l.backend(w)
			return
		}
		w.Write([]byte("ok"))
	})
	l.h = New(Options{Limits: limits}, (&funnel.Funnel{}).Fail)(next)
	return l
}

func (l *limiter) get(t *testing.T) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	ctx, info := reqinfo.NewContext(r.Context())
	info.ClientIP = netip.MustParseAddr("192.0.2.1")
	w := httptest.NewRecorder()
	l.h.ServeHTTP(w, r.WithContext(ctx))
	return w.Result()
}

func per(n int64, d time.Duration, burst int64) gcra.Limit { return gcra.Per(n, d, burst) }

// fields parses a response's two fields.
func fields(t *testing.T, res *http.Response) (policy, state []sfItem) {
	t.Helper()
	var err error
	if policy, err = parseSFList(res.Header.Values("RateLimit-Policy")); err != nil {
		t.Fatalf("RateLimit-Policy %q: %v", res.Header.Values("RateLimit-Policy"), err)
	}
	if state, err = parseSFList(res.Header.Values("RateLimit")); err != nil {
		t.Fatalf("RateLimit %q: %v", res.Header.Values("RateLimit"), err)
	}
	return policy, state
}

// downStore cannot decide.
type downStore struct{}

func (downStore) Take(context.Context, store.Bucket, gcra.Limit, int64) (gcra.Result, error) {
	return gcra.Result{}, fmt.Errorf("redis: %w", store.ErrUnavailable)
}

func TestRateLimitHeadersDraft(t *testing.T) {
	two := func() []Limit {
		return []Limit{
			{Name: "burst", Rate: per(10, time.Second, 3), Headers: true},
			{Name: "hourly", Rate: per(100, time.Hour, 0), Headers: true},
			{Name: "hidden", Rate: per(50, time.Hour, 0)},
		}
	}

	t.Run("ratelimit-headers 3 RateLimit-Policy is a List of String items", func(t *testing.T) {
		policy, _ := fields(t, newLimiter(t, two()...).get(t))
		if len(policy) != 2 || policy[0].name != "burst" || policy[1].name != "hourly" {
			t.Fatalf("policies %+v", policy)
		}
		for _, p := range policy {
			if !p.str {
				t.Errorf("%s is a Token, not a String", p.name)
			}
		}
	})
	t.Run("ratelimit-headers 3 RateLimit-Policy is the same on every response", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(2, time.Hour, 0), Headers: true})
		first := l.get(t).Header.Values("RateLimit-Policy")
		l.backend = func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }
		for i, want := range []int{404, 429, 429} {
			res := l.get(t)
			if res.StatusCode != want || fmt.Sprint(res.Header.Values("RateLimit-Policy")) != fmt.Sprint(first) {
				t.Errorf("response %d: %d %q, want %d %q", i, res.StatusCode, res.Header.Values("RateLimit-Policy"), want, first)
			}
		}
	})
	t.Run("ratelimit-headers 3 the route's policies follow the upstream's own field lines", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(10, time.Minute, 0), Headers: true})
		l.backend = func(w http.ResponseWriter) {
			w.Header().Set("RateLimit-Policy", `"upstream";q=1000;w=3600`)
			w.Header().Set("RateLimit", `"upstream";r=999;t=3600`)
			w.WriteHeader(http.StatusOK)
		}
		policy, state := fields(t, l.get(t))
		if len(policy) != 2 || policy[0].name != "upstream" || policy[1].name != "limit" ||
			len(state) != 2 || state[0].name != "upstream" || state[1].name != "limit" {
			t.Errorf("policies %+v, limits %+v", policy, state)
		}
	})
	t.Run("ratelimit-headers 3.1 q is present on every policy, and no other parameter but w", func(t *testing.T) {
		policy, _ := fields(t, newLimiter(t, two()...).get(t))
		for _, p := range policy {
			if fmt.Sprint(p.keys) != "[q w]" {
				t.Errorf("%s: parameters %v, want [q w]", p.name, p.keys)
			}
		}
	})
	t.Run("ratelimit-headers 3.1 neither field is sent in a trailer", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(10, time.Minute, 0), Headers: true})
		l.backend = func(w http.ResponseWriter) {
			w.Header().Set("Trailer", "X-Checksum")
			w.Write([]byte("body"))
			w.Header().Set("X-Checksum", "abc")
		}
		res := l.get(t)
		if res.Header.Get("RateLimit") == "" || res.Trailer.Get("RateLimit") != "" || res.Trailer.Get("RateLimit-Policy") != "" {
			t.Errorf("header %q, trailer %q", res.Header, res.Trailer)
		}
	})
	t.Run("ratelimit-headers 3.1.1 q is a non-negative Integer of at most 15 digits", func(t *testing.T) {
		for _, burst := range []int64{1, 3, 999_999_999_999_999, 3_000_000_000_000_000} {
			l := newLimiter(t, Limit{Name: "limit", Rate: gcra.Limit{Interval: time.Microsecond, Burst: burst}, Headers: true})
			policy, _ := fields(t, l.get(t))
			if q := sfInt(t, policy[0], "q"); q < 1 || q > burst {
				t.Errorf("burst %d: q=%d", burst, q)
			}
		}
	})
	t.Run("ratelimit-headers 3.1.2 no qu: the quota unit is requests", func(t *testing.T) {
		policy, _ := fields(t, newLimiter(t, two()...).get(t))
		for _, p := range policy {
			if _, ok := p.params["qu"]; ok {
				t.Errorf("%s has qu", p.name)
			}
		}
	})
	t.Run("ratelimit-headers 3.1.3 w is a positive whole number of seconds", func(t *testing.T) {
		for _, c := range []struct {
			rate gcra.Limit
			w    int64
		}{
			{per(10, time.Second, 1), 1}, // a 100 ms window rounds up
			{per(2, time.Hour, 0), 3600},
			{per(1, 90*time.Second, 3), 270},
		} {
			policy, _ := fields(t, newLimiter(t, Limit{Name: "limit", Rate: c.rate, Headers: true}).get(t))
			if w := sfInt(t, policy[0], "w"); w != c.w {
				t.Errorf("%+v: w=%d, want %d", c.rate, w, c.w)
			}
		}
	})
	t.Run("ratelimit-headers 3.1.4 no partition key is sent", func(t *testing.T) {
		policy, state := fields(t, newLimiter(t, two()...).get(t))
		for _, it := range append(policy, state...) {
			if _, ok := it.params["pk"]; ok {
				t.Errorf("%s has pk", it.name)
			}
		}
	})
	t.Run("ratelimit-headers 4 RateLimit names only policies of RateLimit-Policy", func(t *testing.T) {
		policy, state := fields(t, newLimiter(t, two()...).get(t))
		names := map[string]bool{}
		for _, p := range policy {
			names[p.name] = true
		}
		for _, s := range state {
			if !names[s.name] || !s.str {
				t.Errorf("limit %+v is not a policy's String", s)
			}
		}
		if len(state) != 2 {
			t.Errorf("limits %+v", state)
		}
	})
	t.Run("ratelimit-headers 4.1 every item has r and t", func(t *testing.T) {
		_, state := fields(t, newLimiter(t, two()...).get(t))
		for _, s := range state {
			if fmt.Sprint(s.keys) != "[r t]" {
				t.Errorf("%s: parameters %v", s.name, s.keys)
			}
		}
	})
	t.Run("ratelimit-headers 4.1.1 r is what may still be spent, never below 0", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(3, time.Hour, 0), Headers: true})
		for i, want := range []int64{2, 1, 0, 0, 0} {
			_, state := fields(t, l.get(t))
			if r := sfInt(t, state[0], "r"); r != want {
				t.Errorf("request %d: r=%d, want %d", i, r, want)
			}
		}
	})
	t.Run("ratelimit-headers 4.1.1 r is an Integer of at most 15 digits", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: gcra.Limit{Interval: time.Microsecond, Burst: 3_000_000_000_000_000}, Headers: true})
		_, state := fields(t, l.get(t))
		sfInt(t, state[0], "r")
	})
	t.Run("ratelimit-headers 4.1.2 t is a non-negative whole number of seconds", func(t *testing.T) {
		l := newLimiter(t, two()...)
		for range 5 {
			_, state := fields(t, l.get(t))
			for _, s := range state {
				if sfInt(t, s, "t") < 0 {
					t.Errorf("%s: t < 0", s.name)
				}
			}
		}
	})
	t.Run("ratelimit-headers 4.1.2 t on an answered request is the time until the allowance is full", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(2, time.Hour, 0), Headers: true})
		for i, want := range []int64{1800, 3600} {
			_, state := fields(t, l.get(t))
			if got := sfInt(t, state[0], "t"); got != want {
				t.Errorf("request %d: t=%d, want %d", i, got, want)
			}
		}
	})
	t.Run("ratelimit-headers 6 the fields are sent whatever the status", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(1, time.Hour, 0), Headers: true})
		l.backend = func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }
		for _, want := range []int{500, 429} {
			if res := l.get(t); res.StatusCode != want || res.Header.Get("RateLimit") == "" || res.Header.Get("RateLimit-Policy") == "" {
				t.Errorf("%d: %q", res.StatusCode, res.Header)
			}
		}
		refuse, _ := ParseKey("header:X-Key", 32, 64)
		for _, lim := range []Limit{
			{Name: "limit", Rate: per(1, time.Hour, 0), Headers: true, Key: refuse, Refuse: true}, // 400
			{Name: "limit", Rate: per(1, time.Hour, 0), Headers: true, Store: downStore{}},        // 503
		} {
			res := newLimiter(t, lim).get(t)
			if res.StatusCode/100 != 4 && res.StatusCode/100 != 5 || res.Header.Get("RateLimit-Policy") == "" {
				t.Errorf("%d: %q", res.StatusCode, res.Header)
			}
		}
	})
	t.Run("ratelimit-headers 6 Retry-After is not earlier than the end of any exhausted policy's window", func(t *testing.T) {
		l := newLimiter(t,
			Limit{Name: "a", Rate: per(2, time.Hour, 0), Headers: true},
			Limit{Name: "b", Rate: per(1, time.Minute, 0), Headers: true})
		l.get(t) // a: 1 left; b: none
		res := l.get(t)
		if res.StatusCode != 429 {
			t.Fatalf("%d, want 429", res.StatusCode)
		}
		retry, err := strconv.ParseInt(res.Header.Get("Retry-After"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		_, state := fields(t, res)
		for _, s := range state {
			if sfInt(t, s, "r") == 0 && sfInt(t, s, "t") > retry {
				t.Errorf("Retry-After %d is before the end of %s's window (%q)", retry, s.name, res.Header.Get("RateLimit"))
			}
		}
	})
	t.Run("ratelimit-headers 6 a client that waits Retry-After is let through", func(t *testing.T) {
		for _, limits := range [][]Limit{
			{{Name: "a", Rate: per(2, time.Hour, 0), Headers: true}, {Name: "b", Rate: per(1, time.Minute, 0), Headers: true}},
			{{Name: "a", Rate: per(3, time.Hour, 2)}, {Name: "b", Rate: per(1, time.Minute, 0), Headers: true}}, // a not shown
			{{Name: "only", Rate: per(10, time.Second, 2), Headers: true}},
		} {
			l := newLimiter(t, limits...)
			var res *http.Response
			for res = l.get(t); res.StatusCode == 200; res = l.get(t) {
			}
			retry, err := strconv.ParseInt(res.Header.Get("Retry-After"), 10, 64)
			if res.StatusCode != 429 || err != nil {
				t.Fatalf("%d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
			}
			l.clk.add(time.Duration(retry) * time.Second)
			if res := l.get(t); res.StatusCode != 200 {
				t.Errorf("%s: after Retry-After %d s: %d %q", limits[0].Name, retry, res.StatusCode, res.Header.Get("RateLimit"))
			}
		}
	})
	t.Run("ratelimit-headers 6 r and q never promise more than the limit allows", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(5, time.Minute, 0), Headers: true})
		policy, state := fields(t, l.get(t))
		q, r := sfInt(t, policy[0], "q"), sfInt(t, state[0], "r")
		if q != 5 || r != 4 {
			t.Fatalf("q=%d r=%d", q, r)
		}
		for i := range r {
			if res := l.get(t); res.StatusCode != 200 {
				t.Fatalf("spend %d of the r=%d announced: %d", i+1, r, res.StatusCode)
			}
		}
		if res := l.get(t); res.StatusCode != 429 {
			t.Errorf("one past r: %d", res.StatusCode)
		}
	})
	t.Run("ratelimit-headers 7.2 the upstream's RateLimit fields are passed on", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(10, time.Minute, 0)}) // headers off for this limit
		l.backend = func(w http.ResponseWriter) { w.Header().Set("RateLimit", `"upstream";r=5;t=10`) }
		if res := l.get(t); res.Header.Get("RateLimit") != `"upstream";r=5;t=10` {
			t.Errorf("RateLimit %q", res.Header.Values("RateLimit"))
		}
	})
}

func TestTooManyRequests(t *testing.T) {
	refused := func(t *testing.T, rate gcra.Limit) *http.Response {
		t.Helper()
		l := newLimiter(t, Limit{Name: "limit", Rate: rate, Headers: true})
		var res *http.Response
		for res = l.get(t); res.StatusCode == 200; res = l.get(t) {
		}
		return res
	}
	t.Run("6585 4 a request over the limit is answered 429", func(t *testing.T) {
		if res := refused(t, per(1, time.Hour, 0)); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%d", res.StatusCode)
		}
	})
	t.Run("6585 4 the 429 explains the condition", func(t *testing.T) {
		b, _ := io.ReadAll(refused(t, per(1, time.Hour, 0)).Body)
		if body := string(b); !strings.Contains(body, "too many requests") {
			t.Errorf("body %q", body)
		}
	})
	t.Run("6585 4 the 429 says how long to wait in Retry-After", func(t *testing.T) {
		if res := refused(t, per(2, time.Hour, 0)); res.Header.Get("Retry-After") != "1800" {
			t.Errorf("Retry-After %q, want 1800", res.Header.Get("Retry-After"))
		}
	})
	t.Run("6585 4 the 429 carries nothing a cache could store it by", func(t *testing.T) {
		res := refused(t, per(1, time.Hour, 0))
		for _, h := range []string{"Cache-Control", "Expires", "Last-Modified", "ETag"} {
			if v := res.Header.Get(h); v != "" && !strings.Contains(v, "no-store") {
				t.Errorf("%s: %q", h, v)
			}
		}
	})
	t.Run("9110 10.2.3 Retry-After is delay-seconds", func(t *testing.T) {
		for _, rate := range []gcra.Limit{per(1, time.Hour, 0), per(10, time.Second, 1), per(1000, time.Second, 1)} {
			ra := refused(t, rate).Header.Get("Retry-After")
			if n, err := strconv.ParseUint(ra, 10, 64); err != nil || strings.Trim(ra, "0123456789") != "" || n < 1 {
				t.Errorf("%+v: Retry-After %q is not a positive delay-seconds", rate, ra)
			}
		}
	})
	t.Run("9110 10.2.3 Retry-After rounds up to whole seconds", func(t *testing.T) {
		if ra := refused(t, per(10, time.Second, 1)).Header.Get("Retry-After"); ra != "1" {
			t.Errorf("a 100 ms wait: Retry-After %q, want 1", ra)
		}
		if ra := refused(t, per(1, 1500*time.Millisecond, 1)).Header.Get("Retry-After"); ra != "2" {
			t.Errorf("a 1.5 s wait: Retry-After %q, want 2", ra)
		}
	})
	t.Run("9110 10.2.3 Retry-After is sent on refusals only", func(t *testing.T) {
		l := newLimiter(t, Limit{Name: "limit", Rate: per(2, time.Hour, 0), Headers: true})
		if ra := l.get(t).Header.Get("Retry-After"); ra != "" {
			t.Errorf("on a 200: %q", ra)
		}
	})
}
