package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// rateLimitSharedConfig is one instance of the shared rate-limit tests:
// two routes, each one bucket (key: route) of 100/10s in the test's Redis.
// Two routes give the test a second, untouched bucket once Redis is back.
const rateLimitSharedConfig = `listeners: [{address: "127.0.0.1:0"}]
log: {level: info, access: false}
limits: {drain_timeout: 2s}
rate_limits:
  shared:
    redis: {address: "%REDIS%", prefix: "gh:rl:", timeout: 100ms}
    on_error: %ON_ERROR%
routes:
  - name: one
    match: {path: /one}
    upstream: "%B%"
    rate_limit: [{rate: 100/10s, key: route, store: shared}]
  - name: two
    match: {path: /two}
    upstream: "%B%"
    rate_limit: [{rate: 100/10s, key: route, store: shared}]
`

// The limit of both routes, as GCRA and the RateLimit-Policy header see it.
const (
	rlBurst    = 100                    // the burst defaults to the rate's count
	rlInterval = 100 * time.Millisecond // 10s / 100: one request earned back per interval
	rlPolicy   = `"limit";q=100;w=10`
)

// The Guarded store's log lines about an outage.
const (
	rlDownAllowLine = "rate limit: the store failed; deciding in this instance's memory until it answers again"
	rlDownDenyLine  = "rate limit: the store failed; refusing with 503 until it answers again"
	rlBackLine      = "rate limit: the store answers again"
)

const (
	hammerFor     = time.Second      // how long hammer sends
	hammerPerNode = 4                // hammer's goroutines per instance
	rlSlow        = time.Second      // the longest a request may take while Redis is down
	rlRecovery    = 10 * time.Second // bound on the backoff (500ms, 1s, 2s...) ending after a restart
)

// TestRateLimitSharedAllow runs two gatehouse processes sharing one Redis
// rate-limit store with on_error: allow, and checks what the sharing
// promises: both enforce one combined limit; with Redis killed each
// answers at once from its own memory (200 or 429, never 5xx) and logs
// the outage once; once Redis is back both share one limit again and log
// the recovery. Each step builds on the last, so the first to fail ends
// the test.
//
// Not parallel: it bounds requests' latency and counts what a second of
// traffic is allowed, which other tests sharing the CPU would skew.
func TestRateLimitSharedAllow(t *testing.T) {
	s := startSharedLimit(t, "allow")
	s.steps(t, []limitStep{
		{"both instances enforce one limit", func(t *testing.T) { s.combined(t, "/one") }},
		{"redis down: each decides in its own memory", s.downAllow},
		{"redis back: both enforce one limit again", s.backAllow},
	})
}

// TestRateLimitSharedDeny is TestRateLimitSharedAllow with on_error:
// deny: with Redis killed every request is refused with 503 at once (the
// backend sees none), and once Redis is back requests pass again.
func TestRateLimitSharedDeny(t *testing.T) {
	s := startSharedLimit(t, "deny")
	s.steps(t, []limitStep{
		{"redis up: both answer", s.upDeny},
		{"redis down: 503 at once", s.downDeny},
		{"redis back: both answer again", s.backDeny},
	})
}

// sharedLimit is a test's world: Redis, the backend and the two
// instances, a and b.
type sharedLimit struct {
	rds     *testkit.Redis
	backend *testkit.Backend
	a, b    *instance
}

type limitStep struct {
	name string
	run  func(*testing.T)
}

// startSharedLimit starts Redis, the backend and both instances with
// on_error set to onError, and returns once both listen.
func startSharedLimit(t *testing.T, onError string) *sharedLimit {
	t.Helper()
	s := &sharedLimit{rds: testkit.StartRedis(t), backend: testkit.NewBackend(t, "backend", nil)}
	bin, dir := testkit.TestBinary(t), t.TempDir()
	config := strings.NewReplacer("%REDIS%", s.rds.Addr(), "%ON_ERROR%", onError, "%B%", s.backend.URL).
		Replace(rateLimitSharedConfig)
	s.a, s.b = launchInstance(t, bin, dir, "a", config), launchInstance(t, bin, dir, "b", config)
	s.a.ready(t)
	s.b.ready(t)
	return s
}

func (s *sharedLimit) nodes() []*instance { return []*instance{s.a, s.b} }

// steps runs each step as a subtest until one fails, then stops both
// instances, requiring clean exits.
func (s *sharedLimit) steps(t *testing.T, steps []limitStep) {
	start := time.Now()
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
	t.Logf("the steps took %v", time.Since(start).Round(time.Millisecond))
	s.a.stop(t)
	s.b.stop(t)
}

// combined hammers path through both instances: together they admit what
// one limit allows, the backend sees exactly those, and the bucket is in
// Redis.
func (s *sharedLimit) combined(t *testing.T, path string) {
	before := s.hits(path)
	tallies, elapsed := hammer(s.nodes(), path)
	var all tally
	for _, n := range s.nodes() {
		c := tallies[n]
		c.wantNoProblems(t, n.name)
		t.Logf("%s: %d admitted, %d refused; the slowest took %v", n.name, c.ok, c.refused, c.slowest)
		all.merge(c)
	}
	wantGCRA(t, "both instances together", &all, elapsed)
	s.wantBackendSaw(t, path, before, all.ok)
	bucket := "gh:rl:" + strings.TrimPrefix(path, "/")
	if keys := s.rds.Do("KEYS", "gh:rl:*"); !strings.Contains(keys, bucket) {
		t.Errorf("redis holds %q, want a key starting %q (the route's bucket)", keys, bucket)
	}
}

// downAllow kills Redis and hammers both instances: each answers quickly,
// 200 or 429, deciding with its own memory (whose bucket is fresh: Redis
// decided everything so far), so each admits what one limit allows; each
// logs the outage once.
func (s *sharedLimit) downAllow(t *testing.T) {
	s.rds.Kill()
	before := s.hits("/one")
	tallies, elapsed := hammer(s.nodes(), "/one")
	total := 0
	for _, n := range s.nodes() {
		c := tallies[n]
		c.wantNoProblems(t, n.name)
		if c.slowest >= rlSlow {
			t.Errorf("%s: with redis down a request took %v, want under %v", n.name, c.slowest, rlSlow)
		}
		t.Logf("%s alone: %d admitted, %d refused; the slowest took %v", n.name, c.ok, c.refused, c.slowest)
		wantGCRA(t, n.name+" alone", c, elapsed)
		total += c.ok
	}
	s.wantBackendSaw(t, "/one", before, total)
	for _, n := range s.nodes() {
		n.wantLoggedOnce(t, rlDownAllowLine, "WARN")
	}
}

// backAllow restarts Redis (empty, on its port), sends requests until
// both instances have logged the recovery, and then checks on the other
// route, whose bucket is fresh, that they share one limit again.
func (s *sharedLimit) backAllow(t *testing.T) {
	s.rds.Restart()
	start := time.Now()
	s.nudgeUntilBack(t, func(a answer) string { return a.problem() })
	t.Logf("both instances decided with redis again %v after it restarted", time.Since(start).Round(time.Millisecond))
	for _, n := range s.nodes() {
		n.wantLoggedOnce(t, rlBackLine, "INFO")
		n.wantLoggedOnce(t, rlDownAllowLine, "WARN")
	}
	s.combined(t, "/two")
}

func (s *sharedLimit) upDeny(t *testing.T) {
	for _, n := range s.nodes() {
		if a := n.send("/one"); a.problem() != "" || a.status != http.StatusOK {
			t.Errorf("%s: GET /one: status %d (%s), want 200", n.name, a.status, a.problem())
		}
	}
}

// downDeny kills Redis and sends each instance, ten times over, a request
// that must be refused with 503 quickly, without reaching the backend;
// each logs the outage once.
func (s *sharedLimit) downDeny(t *testing.T) {
	s.rds.Kill()
	before := s.hits("/one")
	var slowest time.Duration
	for round := range 10 {
		for _, n := range s.nodes() {
			a := n.send("/one")
			if a.err != nil || a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "the rate limit cannot be checked now") {
				t.Errorf("%s round %d: status %d, error %v, body %q; want the 503 of a store that cannot decide", n.name, round, a.status, a.err, a.body)
			}
			if p := a.header.Get("RateLimit-Policy"); p != rlPolicy {
				t.Errorf("%s round %d: the 503 has RateLimit-Policy %q, want %q", n.name, round, p, rlPolicy)
			}
			if a.took >= rlSlow {
				t.Errorf("%s round %d: the 503 took %v, want under %v", n.name, round, a.took, rlSlow)
			}
			if round == 0 {
				t.Logf("%s: the first refusal: %d %q, RateLimit %q", n.name, a.status, a.body, a.header.Get("RateLimit"))
			}
			slowest = max(slowest, a.took)
		}
	}
	t.Logf("with redis down, the slowest of %d refusals took %v", 10*len(s.nodes()), slowest)
	s.wantBackendSaw(t, "/one", before, 0)
	for _, n := range s.nodes() {
		n.wantLoggedOnce(t, rlDownDenyLine, "WARN")
	}
}

// backDeny restarts Redis: each instance answers 503 until its backoff
// ends and then 200, and logs the recovery.
func (s *sharedLimit) backDeny(t *testing.T) {
	s.rds.Restart()
	start := time.Now()
	s.nudgeUntilBack(t, func(a answer) string {
		if a.err == nil && a.status == http.StatusServiceUnavailable {
			return ""
		}
		return a.problem()
	})
	t.Logf("both instances decided with redis again %v after it restarted", time.Since(start).Round(time.Millisecond))
	for _, n := range s.nodes() {
		n.wantLoggedOnce(t, rlBackLine, "INFO")
		if a := n.send("/one"); a.problem() != "" || a.status != http.StatusOK {
			t.Errorf("%s after recovery: status %d (%s), want 200", n.name, a.status, a.problem())
		}
	}
}

// nudgeUntilBack sends GET /one through each instance every 20ms until it
// has logged the recovery (its backoff must end with a decision to probe
// Redis); problem judges each answer meanwhile.
func (s *sharedLimit) nudgeUntilBack(t *testing.T, problem func(answer) string) {
	t.Helper()
	deadline := time.Now().Add(rlRecovery)
	for _, n := range s.nodes() {
		for len(n.proc.Logs.Match(rlBackLine)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not log %q within %v of the restart", n.name, rlBackLine, rlRecovery)
			}
			if p := problem(n.send("/one")); p != "" {
				t.Errorf("%s, waiting for redis: %s", n.name, p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// hits counts the requests for path the backend received.
func (s *sharedLimit) hits(path string) int {
	n := 0
	for _, r := range s.backend.Requests() {
		if r.RequestURI == path {
			n++
		}
	}
	return n
}

// wantBackendSaw fails t unless the backend received want requests for
// path since it had received before.
func (s *sharedLimit) wantBackendSaw(t *testing.T, path string, before, want int) {
	t.Helper()
	if got := s.hits(path) - before; got != want {
		t.Errorf("the backend saw %d requests for %s, want %d (those admitted)", got, path, want)
	}
}

// wantGCRA fails t unless c, a second of requests far above the rate, was
// admitted as one GCRA limit allows: at least the burst, and at most the
// burst plus one request per interval elapsed. The tolerance: elapsed is
// the test's span from the first request sent to the last answer read,
// which contains every decision (the instances' clocks and Redis's, which
// times shared decisions, are this machine's); it is rounded up to whole
// intervals, plus one request for the clocks' granularity. Without
// sharing, two instances would admit twice the burst.
func wantGCRA(t *testing.T, who string, c *tally, elapsed time.Duration) {
	t.Helper()
	hi := rlBurst + int((elapsed+rlInterval-1)/rlInterval) + 1
	if c.ok < rlBurst || c.ok > hi {
		t.Errorf("%s admitted %d of %d requests in %v, want %d to %d", who, c.ok, c.ok+c.refused, elapsed, rlBurst, hi)
	}
	if c.refused == 0 {
		t.Errorf("%s refused none of %d requests in %v: the test did not exceed the limit", who, c.ok, elapsed)
	}
}

// hammer has hammerPerNode goroutines per instance send GET path back to
// back on the instance's keep-alive client for hammerFor, and returns
// each instance's tally and the time from the first request sent to the
// last answer read.
func hammer(nodes []*instance, path string) (map[*instance]*tally, time.Duration) {
	out := make(map[*instance]*tally, len(nodes))
	for _, n := range nodes {
		out[n] = &tally{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(hammerFor)
	for _, n := range nodes {
		for range hammerPerNode {
			wg.Go(func() {
				var c tally
				for time.Now().Before(deadline) {
					c.add(n.send(path))
				}
				mu.Lock()
				out[n].merge(&c)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return out, time.Since(start)
}

// tally counts the answers of a limited route.
type tally struct {
	ok, refused int
	problems    int
	examples    []string // the first few problems
	slowest     time.Duration
}

func (c *tally) add(a answer) {
	c.slowest = max(c.slowest, a.took)
	switch p := a.problem(); {
	case p != "":
		c.problems++
		if len(c.examples) < 3 {
			c.examples = append(c.examples, p)
		}
	case a.status == http.StatusOK:
		c.ok++
	default:
		c.refused++
	}
}

func (c *tally) merge(o *tally) {
	c.ok, c.refused, c.problems = c.ok+o.ok, c.refused+o.refused, c.problems+o.problems
	c.examples = append(c.examples, o.examples...)
	c.slowest = max(c.slowest, o.slowest)
}

// wantNoProblems fails t if any answer was neither a 200 nor a proper 429.
func (c *tally) wantNoProblems(t *testing.T, who string) {
	t.Helper()
	if c.problems > 0 {
		t.Errorf("%s: %d of %d answers were wrong, among them: %s",
			who, c.problems, c.problems+c.ok+c.refused, strings.Join(c.examples, "; "))
	}
}

// answer is what a GET through one instance got.
type answer struct {
	status int
	header http.Header
	body   string
	took   time.Duration
	err    error
}

// problem describes what is wrong with a as an answer of a limited
// route, "" when it is a 200 or a 429 stating the limit: Retry-After in
// whole seconds and RateLimit saying nothing remains until then.
func (a answer) problem() string {
	switch {
	case a.err != nil:
		return a.err.Error()
	case a.status != http.StatusOK && a.status != http.StatusTooManyRequests:
		return fmt.Sprintf("status %d: %q", a.status, a.body)
	case a.header.Get("RateLimit-Policy") != rlPolicy:
		return fmt.Sprintf("status %d with RateLimit-Policy %q, want %q", a.status, a.header.Get("RateLimit-Policy"), rlPolicy)
	case a.status == http.StatusOK:
		if a.header.Get("RateLimit") == "" {
			return "a 200 without RateLimit"
		}
		return ""
	}
	retry := a.header.Get("Retry-After")
	if s, err := strconv.Atoi(retry); err != nil || s < 1 || s > 10 {
		return fmt.Sprintf("429 with Retry-After %q, want 1 to 10 (seconds)", retry)
	}
	if got, want := a.header.Get("RateLimit"), `"limit";r=0;t=`+retry; got != want {
		return fmt.Sprintf("429 with RateLimit %q, want %q", got, want)
	}
	return ""
}

// send sends GET path through n; safe for concurrent use.
func (n *instance) send(path string) answer {
	start := time.Now()
	res, err := n.c.Get(n.url + path)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	return answer{status: res.StatusCode, header: res.Header, body: string(body), took: time.Since(start), err: err}
}

// wantLoggedOnce waits until n has logged msg, and requires it logged
// exactly once, at level.
func (n *instance) wantLoggedOnce(t *testing.T, msg, level string) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, func() bool { return len(n.proc.Logs.Match(msg)) > 0 },
		"instance %s did not log %q", n.name, msg)
	if got := n.proc.Logs.Match(msg); len(got) != 1 || got[0].Str("level") != level {
		t.Errorf("instance %s logged %q %d times (the first at %s), want once at %s",
			n.name, msg, len(got), got[0].Str("level"), level)
	}
}
