package upstream

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for deterministic tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// letters names the targets of tests: weight i goes to http://<letter i>.
const letters = "abcdefghijklmnopqrstuvwxyz"

// weighted returns targets http://a, http://b, ... with these weights.
func weighted(ws ...int) []TargetSpec {
	ts := make([]TargetSpec, len(ws))
	for i, w := range ws {
		ts[i] = TargetSpec{URL: "http://" + letters[i:i+1], Weight: w}
	}
	return ts
}

// urls returns targets of weight 1 with these URLs.
func urls(us ...string) []TargetSpec {
	ts := make([]TargetSpec, len(us))
	for i, u := range us {
		ts[i] = TargetSpec{URL: u}
	}
	return ts
}

// build builds a pool named "web" or fails the test. Active checks get a
// plain client unless o has one.
func build(tb testing.TB, s Spec, o Options) *Pool {
	tb.Helper()
	if s.Active != nil && o.Client == nil {
		o.Client = &http.Client{}
	}
	p, err := Build("web", s, nil, o)
	if err != nil {
		tb.Fatalf("Build: %v", err)
	}
	return p
}

// policy builds a pool of targets with these weights and the balance
// policy of this name.
func policy(tb testing.TB, balance string, ws ...int) *Pool {
	tb.Helper()
	b, ok := BalanceByName(balance)
	if !ok {
		tb.Fatalf("no policy %q", balance)
	}
	return build(tb, Spec{Balance: b, Targets: weighted(ws...), Sticky: StickyCookie{Name: "gh_sticky"}}, Options{})
}

// name is the letter of a target, "-" for nil.
func name(t *Target) string {
	if t == nil {
		return "-"
	}
	return t.URL.Host
}

// target returns the pool's target with this letter.
func target(p *Pool, letter string) *Target {
	for _, t := range p.Targets {
		if t.URL.Host == letter {
			return t
		}
	}
	panic("no target " + letter)
}

// sequence picks n times with fresh Choices and returns the letters.
func sequence(p *Pool, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(name(p.Balancer.Pick(&Choice{})))
	}
	return b.String()
}

// counts picks n times with fresh Choices and counts picks per letter.
func counts(p *Pool, n int, mk func(i int) *Choice) map[string]int {
	m := make(map[string]int)
	for i := range n {
		m[name(p.Balancer.Pick(mk(i)))]++
	}
	return m
}

// down marks targets unavailable through the active check flag.
func down(p *Pool, letters ...string) {
	for _, l := range letters {
		target(p, l).st.activeDown.Store(true)
	}
}

// ipChoice returns a Choice for client IP number i.
func ipChoice(i int) *Choice {
	return &Choice{ClientIP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
}

// reqChoice returns a Choice with a request carrying these headers.
func reqChoice(ip int, hdr ...string) *Choice {
	c := ipChoice(ip)
	r, _ := http.NewRequest("GET", "http://x/", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	c.Req = r
	return c
}

// logBuffer is a concurrency-safe log sink for counting messages.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, nil))
}

// within reports whether got is within frac of want.
func within(got, want int, frac float64) error {
	if d := float64(got - want); d > frac*float64(want) || -d > frac*float64(want) {
		return fmt.Errorf("got %d, want %d ±%.0f%%", got, want, frac*100)
	}
	return nil
}
