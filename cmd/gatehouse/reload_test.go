package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reloads is how many times TestReloadUnderLoad reloads.
const reloads = 20

// perGeneration is how many requests of the load must be answered under
// each configuration before the next reload.
const perGeneration = 40

// load runs requests against a proxy from several goroutines and checks
// every answer. gen is the configuration generation the proxy is known to
// serve, or -1 while a reload is under way; a request that starts and ends
// in the same generation g must be answered by config label(g).
type load struct {
	base  string
	label func(gen int64) string
	gen   atomic.Int64

	mu       sync.Mutex
	ok       int
	failures []string
	perGen   [reloads + 1]int
	reached  [reloads + 1]chan struct{} // closed when perGen[g] hits perGeneration
}

func newLoad(base string, label func(int64) string) *load {
	l := &load{base: base, label: label}
	for i := range l.reached {
		l.reached[i] = make(chan struct{})
	}
	return l
}

// backendOf maps a config label to the backend that config routes to.
var backendOf = map[string]string{"A": "blue", "B": "green"}

// one sends one request (a GET, or a POST with a body of random size) and
// records what went wrong with it, if anything.
func (l *load) one(c *http.Client, rng *rand.Rand, post bool) {
	g0 := l.gen.Load()
	var res *http.Response
	var err error
	var sent []byte
	if post {
		sent = make([]byte, 1+rng.IntN(64<<10))
		for i := range sent {
			sent[i] = byte(rng.Uint32())
		}
		res, err = c.Post(l.base+"/echo", "application/octet-stream", bytes.NewReader(sent))
	} else {
		res, err = c.Get(l.base + "/hello")
	}
	if err != nil {
		l.fail("%s: %v", kind(post), err)
		return
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	g1 := l.gen.Load()
	cfg, be := res.Header.Get("X-Config"), res.Header.Get("X-Backend")
	switch {
	case err != nil:
		l.fail("%s: reading the body: %v", kind(post), err)
	case res.StatusCode != http.StatusOK:
		l.fail("%s: status %d, body %q", kind(post), res.StatusCode, body)
	case backendOf[cfg] == "" || backendOf[cfg] != be:
		l.fail("%s: X-Config %q with X-Backend %q: not one configuration's answer", kind(post), cfg, be)
	case post && !bytes.Equal(body, sent):
		l.fail("POST: echoed %d bytes differ from the %d sent", len(body), len(sent))
	case !post && string(body) != "hello from "+be+"\n":
		l.fail("GET: body %q", body)
	case g0 == g1 && g0 >= 0 && cfg != l.label(g0):
		l.fail("%s: answered by config %s although config %s was applied before it was sent", kind(post), cfg, l.label(g0))
	default:
		l.succeed(g0, g1)
	}
}

func kind(post bool) string {
	if post {
		return "POST"
	}
	return "GET"
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf(format, args...))
}

func (l *load) succeed(g0, g1 int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok++
	if g0 == g1 && g0 >= 0 {
		if l.perGen[g0]++; l.perGen[g0] == perGeneration {
			close(l.reached[g0])
		}
	}
}

// run starts the workers; they stop when stop is closed.
func (l *load) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	keepAlive := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: waitLimit}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitLimit}
	workers := []struct {
		c    *http.Client
		post func(i int) bool
	}{
		{keepAlive, func(int) bool { return false }},
		{keepAlive, func(int) bool { return false }},
		{keepAlive, func(int) bool { return true }},
		{fresh, func(i int) bool { return i%2 == 1 }},
	}
	for w, wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l.one(wk.c, rng, wk.post(i))
			}
		}()
	}
}

// TestReloadUnderLoad reloads 20 times with SIGHUP, alternating between two
// configs that route to different upstreams and stamp different headers,
// while four clients (keep-alive and fresh connections, GETs and POSTs
// with bodies) keep sending requests. No request may fail, and each reload
// must take effect as soon as the process reports it applied.
func TestReloadUnderLoad(t *testing.T) {
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	failed := reloadUnderLoad(t, func(addr string) [2]site {
		return [2]site{
			{addr: addr, label: "A", upstream: "blue_pool", target: blue},
			{addr: addr, label: "B", upstream: "green_pool", target: green},
		}
	})
	if len(failed) > 0 {
		t.Errorf("%d requests failed during reloads, e.g.:\n%s", len(failed), strings.Join(failed[:min(len(failed), 10)], "\n"))
	}
}

// TestReloadOfListenerSettingsUnderLoad is TestReloadUnderLoad with
// reloads that also change the listener's settings (idle_timeout), so each
// reload moves the socket to a new http.Server and retires the old one.
//
// KNOWN BUG, left failing on purpose: server.retire calls Shutdown on the
// old http.Server, which closes its idle keep-alive connections at once. A
// client that has just sent a request on such a connection gets a reset or
// "server closed idle connection"; clients retry GETs by themselves, but a
// POST is lost. A fix would let retired connections finish their next
// request with "Connection: close" and close the stragglers only at the
// drain timeout.
func TestReloadOfListenerSettingsUnderLoad(t *testing.T) {
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	failed := reloadUnderLoad(t, func(addr string) [2]site {
		return [2]site{
			{addr: addr, label: "A", upstream: "blue_pool", target: blue, idleTimeout: "120s"},
			{addr: addr, label: "B", upstream: "green_pool", target: green, idleTimeout: "90s"},
		}
	})
	if len(failed) > 0 {
		t.Errorf("%d requests failed when reloads changed the listener's settings (known bug: the retired http.Server's Shutdown "+
			"closes idle keep-alive connections while clients send on them; see the test's comment), e.g.:\n%s",
			len(failed), strings.Join(failed[:min(len(failed), 10)], "\n"))
	}
}

// reloadUnderLoad runs `gatehouse run` with confs[0], reloads it 20 times
// alternating between the two configs while the load runs, checks every
// reload took effect, and returns the load's failures.
func reloadUnderLoad(t *testing.T, confs func(addr string) [2]site) (failures []string) {
	t.Helper()
	dir := t.TempDir()
	p, addr := startRun(t, dir, func(a string) string { return confs(a)[0].String() })
	path := filepath.Join(dir, "gatehouse.yaml")
	label := func(g int64) string { return confs(addr)[g%2].label }

	l := newLoad("http://"+addr, label)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	l.run(stop, &wg)
	defer func() { // also on t.Fatal, so no worker outlives the test
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	waitGeneration := func(g int) {
		t.Helper()
		select {
		case <-l.reached[g]:
		case <-time.After(waitLimit):
			t.Fatalf("the load got fewer than %d answers under config generation %d within %v", perGeneration, g, waitLimit)
		}
	}
	waitGeneration(0)
	for g := 1; g <= reloads; g++ {
		l.gen.Store(-1)
		next := confs(addr)[g%2]
		writeFile(t, path, next.String())
		p.reload()
		l.gen.Store(int64(g))
		wantServed(t, "http://"+addr+"/hello", next.label, next.target)
		waitGeneration(g)
	}
	close(stop)
	wg.Wait()

	if n := p.count("configuration applied"); n != reloads+1 {
		t.Errorf("%d configurations applied, want %d", n, reloads+1)
	}
	p.stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("%d requests answered, %d failed; per configuration generation: %v", l.ok, len(l.failures), l.perGen)
	return l.failures
}

// TestReloadRefusesInvalidConfig sends SIGHUP with a config that does not
// validate, then with one that validates but cannot be applied (its new
// listener's port is taken). Both are refused with the reasons logged, and
// the old configuration keeps serving, untouched.
func TestReloadRefusesInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	p, addr := startRun(t, dir, func(a string) string {
		return site{addr: a, label: "A", upstream: "pool", target: blue}.String()
	})
	path := filepath.Join(dir, "gatehouse.yaml")
	url := "http://" + addr + "/hello"
	const refused = "reload refused; the previous configuration keeps serving"

	bad, err := os.ReadFile("testdata/bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(bad))
	p.signal(sighup)
	rec := p.waitMsg(refused, 1)
	want := strings.TrimSuffix(strings.ReplaceAll(badProblems, "bad.yaml:", path+":"), "\n")
	if got := rec.str("error"); got != want {
		t.Errorf("refusal lists:\n%s\nwant:\n%s", got, want)
	}
	if rec.str("level") != "ERROR" || rec.str("reason") != "SIGHUP" {
		t.Errorf("refusal logged at level %q with reason %q, want ERROR and SIGHUP: %s", rec.str("level"), rec.str("reason"), rec.raw)
	}
	wantServed(t, url, "A", blue)

	// Valid, but the second listener's port is taken: nothing of it may
	// apply, not even the new route.
	taken := listenLoopback(t)
	writeFile(t, path, site{addr: addr, addr2: taken, label: "B", upstream: "pool", target: green}.String())
	p.signal(sighup)
	rec = p.waitMsg(refused, 2)
	want = fmt.Sprintf("listener %q: listen tcp %s: bind: address already in use", "second", taken)
	if got := rec.str("error"); got != want {
		t.Errorf("refusal says %q, want %q", got, want)
	}
	wantServed(t, url, "A", blue)
	if n := p.count("configuration applied"); n != 1 {
		t.Errorf("%d configurations applied after two refused reloads, want 1", n)
	}

	// A good config afterwards applies as usual.
	writeFile(t, path, site{addr: addr, label: "B", upstream: "pool", target: green}.String())
	p.reload()
	wantServed(t, url, "B", green)
	p.stop()
}

// TestWatchReloadsOnFileChange: with reload.watch, writing the file in
// place and replacing it by rename both reload it, without SIGHUP; a bad
// write is refused and the old configuration keeps serving.
func TestWatchReloadsOnFileChange(t *testing.T) {
	dir := t.TempDir()
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	a := func(addr string) site {
		return site{addr: addr, label: "A", upstream: "pool", target: blue, watch: true}
	}
	p, addr := startRun(t, dir, func(addr string) string { return a(addr).String() })
	path := filepath.Join(dir, "gatehouse.yaml")
	url := "http://" + addr + "/hello"
	b := site{addr: addr, label: "B", upstream: "pool", target: green, watch: true}
	if n := p.count("watching the config file"); n != 1 {
		t.Fatalf("not watching when started; output:\n%s", p.output())
	}

	writeFile(t, path, b.String())
	p.waitMsg("configuration applied", 2)
	wantServed(t, url, "B", green)

	replaceFile(t, path, a(addr).String())
	p.waitMsg("configuration applied", 3)
	wantServed(t, url, "A", blue)

	writeFile(t, path, "listeners: [{address: "+addr+"}]\nroutes: oops\n")
	rec := p.waitFor("reload refused; the previous configuration keeps serving", "reason", "file changed")
	if want := path + ":2:9: routes: expected a list, got \"oops\""; rec.str("error") != want {
		t.Errorf("refusal says %q, want %q", rec.str("error"), want)
	}
	wantServed(t, url, "A", blue)

	replaceFile(t, path, b.String())
	p.waitMsg("configuration applied", 4)
	wantServed(t, url, "B", green)
	if n := p.count("configuration applied"); n != 4 {
		t.Errorf("%d configurations applied for three good changes, want 4 (one each)", n)
	}

	// SIGHUP still works beside the watcher; the two reload from
	// different goroutines, which the race-enabled binary checks.
	writeFile(t, filepath.Join(dir, "unrelated.yaml"), "not the config\n")
	p.reload()
	wantServed(t, url, "B", green)
	if n := p.count("configuration applied"); n != 5 {
		t.Errorf("%d configurations applied, want 5: writing another file in the directory must not reload", n)
	}
	p.stop()
}

// TestWatchFollowsReloadSetting: turning reload.watch on by SIGHUP starts
// watching, and turning it off by a reload stops it.
func TestWatchFollowsReloadSetting(t *testing.T) {
	dir := t.TempDir()
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	conf := func(addr, label string, be *backend, watch bool) string {
		return site{addr: addr, label: label, upstream: "pool", target: be, watch: watch}.String()
	}
	p, addr := startRun(t, dir, func(a string) string { return conf(a, "A", blue, false) })
	path := filepath.Join(dir, "gatehouse.yaml")
	url := "http://" + addr + "/hello"
	if n := p.count("watching the config file"); n != 0 {
		t.Fatalf("watching with reload.watch off; output:\n%s", p.output())
	}

	writeFile(t, path, conf(addr, "B", green, true))
	p.reload()
	p.waitMsg("watching the config file", 1)
	replaceFile(t, path, conf(addr, "A", blue, true))
	p.waitMsg("configuration applied", 3)
	wantServed(t, url, "A", blue)

	writeFile(t, path, conf(addr, "B", green, false)) // applied by the watcher, which it stops
	p.waitMsg("stopped watching the config file", 1)
	wantServed(t, url, "B", green)
	writeFile(t, path, conf(addr, "A", blue, false))
	// Proving that nothing happens takes a wait: five debounce periods.
	time.Sleep(time.Second)
	if n := p.count("configuration applied"); n != 4 {
		t.Errorf("%d configurations applied, want 4: the file was reloaded after watching was turned off; output:\n%s", n, p.output())
	}
	wantServed(t, url, "B", green)
	p.reload()
	wantServed(t, url, "A", blue)
	p.stop()
}
