package cache_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// origin is a handler whose answer a test sets, counting the requests it
// answers.
type origin struct {
	n    atomic.Int64
	mu   sync.Mutex
	last http.Header // header of the last request
	h    http.HandlerFunc
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.n.Add(1)
	o.mu.Lock()
	o.last = r.Header.Clone()
	h := o.h
	o.mu.Unlock()
	h(w, r)
}

func (o *origin) set(h http.HandlerFunc) {
	o.mu.Lock()
	o.h = h
	o.mu.Unlock()
}

func (o *origin) lastHeader() http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// fixed answers with status, body and header pairs.
func fixed(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Add(header[i], header[i+1])
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// start runs Gatehouse with one cached route (extra YAML keys of the
// route's cache block in cacheKeys) in front of o.
func start(t *testing.T, o *origin, cacheKeys string) *testkit.Gatehouse {
	t.Helper()
	be := testkit.NewBackend(t, "origin", o)
	return testkit.Start(t, `
caches:
  main: {memory: {max_bytes: 64MiB, max_object_bytes: 1MiB}}
routes:
  - upstream: ${ORIGIN}
    cache: {store: main, purge_from: [127.0.0.1]`+cacheKeys+`}
`, testkit.Vars{"ORIGIN": be.URL})
}

func status(res *http.Response) string { return res.Header.Get("Cache-Status") }

func wantStatus(t *testing.T, res *http.Response, parts ...string) {
	t.Helper()
	got := status(res)
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Errorf("Cache-Status = %q, want it to contain %q", got, p)
		}
	}
}

func TestMissThenHit(t *testing.T) {
	o := &origin{h: fixed(200, "hello", "Cache-Control", "max-age=60", "Content-Type", "text/plain")}
	g := start(t, o, "")
	res, body := g.Get("/a")
	if body != "hello" || res.StatusCode != 200 {
		t.Fatalf("miss: %d %q", res.StatusCode, body)
	}
	wantStatus(t, res, "Gatehouse; fwd=uri-miss; fwd-status=200; stored", `key="http://`+g.Addr+`/a"`)
	if res.Header.Get("Age") != "" {
		t.Errorf("a miss has Age %q", res.Header.Get("Age"))
	}
	res, body = g.Get("/a")
	if body != "hello" || res.StatusCode != 200 {
		t.Fatalf("hit: %d %q", res.StatusCode, body)
	}
	wantStatus(t, res, "Gatehouse; hit; ttl=")
	if res.Header.Get("Age") == "" {
		t.Errorf("a hit has no Age header (RFC 9111 5.1)")
	}
	if res.ContentLength != 5 {
		t.Errorf("hit Content-Length = %d, want 5", res.ContentLength)
	}
	if n := o.n.Load(); n != 1 {
		t.Errorf("origin saw %d requests, want 1", n)
	}
	// HEAD is answered from the stored GET (RFC 9110 9.3.2).
	res, body = g.Do(g.NewRequest("HEAD", "/a", nil))
	if body != "" || res.ContentLength != 5 || o.n.Load() != 1 {
		t.Errorf("HEAD: body %q, length %d, origin %d", body, res.ContentLength, o.n.Load())
	}
	wantStatus(t, res, "hit")
}

func TestHostsNeverShareEntries(t *testing.T) {
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "site "+r.Host)
	}}
	g := start(t, o, "")
	_, a := g.Get("/x", "Host", "a.example")
	_, b := g.Get("/x", "Host", "b.example")
	_, a2 := g.Get("/x", "Host", "A.EXAMPLE")
	if a != "site a.example" || b != "site b.example" || a2 != "site a.example" {
		t.Errorf("bodies %q %q %q", a, b, a2)
	}
	if n := o.n.Load(); n != 2 {
		t.Errorf("origin saw %d requests, want 2 (one per host)", n)
	}
}

func TestRevalidation(t *testing.T) {
	o := &origin{}
	o.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Cache-Control", "max-age=0")
		w.Header().Set("X-Version", "1")
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set("X-Version", "2") // a 304 updates stored fields (RFC 9111 3.2)
			w.WriteHeader(304)
			return
		}
		fmt.Fprint(w, "body one")
	})
	g := start(t, o, "")
	res, _ := g.Get("/r")
	wantStatus(t, res, "fwd=uri-miss", "stored")
	res, body := g.Get("/r")
	if res.StatusCode != 200 || body != "body one" {
		t.Fatalf("revalidated: %d %q", res.StatusCode, body)
	}
	if inm := o.lastHeader().Get("If-None-Match"); inm != `"v1"` {
		t.Errorf("origin got If-None-Match %q, want the stored ETag", inm)
	}
	wantStatus(t, res, "fwd=stale", "fwd-status=304")
	if v := res.Header.Get("X-Version"); v != "2" {
		t.Errorf("X-Version = %q, want the 304's 2", v)
	}
	// The client's own conditional, against the stored response.
	res, body = g.Get("/r", "If-None-Match", `"v1"`)
	if res.StatusCode != 304 || body != "" {
		t.Errorf("client conditional: %d %q, want 304", res.StatusCode, body)
	}
}

func TestClientConditionalOnFreshHit(t *testing.T) {
	o := &origin{h: fixed(200, "abc", "Cache-Control", "max-age=60", "ETag", `W/"e"`, "Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")}
	g := start(t, o, "")
	g.Get("/c")
	for _, h := range [][]string{
		{"If-None-Match", `"e"`}, // weak comparison (RFC 9110 13.1.2)
		{"If-None-Match", `*`},
		{"If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"},
	} {
		res, body := g.Get("/c", h...)
		if res.StatusCode != 304 || body != "" {
			t.Errorf("%v: %d %q, want 304", h, res.StatusCode, body)
		}
		if res.Header.Get("ETag") != `W/"e"` {
			t.Errorf("%v: 304 without the ETag (RFC 9110 15.4.5)", h)
		}
	}
	res, _ := g.Get("/c", "If-None-Match", `"other"`)
	if res.StatusCode != 200 {
		t.Errorf("non-matching If-None-Match: %d, want 200", res.StatusCode)
	}
	if n := o.n.Load(); n != 1 {
		t.Errorf("origin saw %d requests, want 1", n)
	}
	// On a miss, the client's conditional is answered by the cache from
	// the full response it stores; the origin never sees it.
	res, _ = g.Get("/c2", "If-None-Match", `W/"e"`)
	if res.StatusCode != 304 {
		t.Errorf("conditional miss: %d, want 304", res.StatusCode)
	}
	if o.lastHeader().Get("If-None-Match") != "" {
		t.Errorf("origin got the client's If-None-Match on a miss")
	}
	if res, body := g.Get("/c2"); body != "abc" || !strings.Contains(status(res), "hit") {
		t.Errorf("after a conditional miss: %q %q, want a stored full body", body, status(res))
	}
}

func TestNotStored(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []string
		req    []string
	}{
		{"no-store", []string{"Cache-Control", "max-age=60, no-store"}, nil},
		{"private", []string{"Cache-Control", "private, max-age=60"}, nil},
		{"no freshness, no validator", nil, nil},
		{"authorization without public", []string{"Cache-Control", "max-age=60"}, []string{"Authorization", "Bearer x"}},
		{"set-cookie", []string{"Cache-Control", "max-age=60", "Set-Cookie", "s=1"}, nil},
		{"vary star", []string{"Cache-Control", "max-age=60", "Vary", "*"}, nil},
		{"request no-store", []string{"Cache-Control", "max-age=60"}, []string{"Cache-Control", "no-store"}},
		{"surrogate no-store", []string{"Cache-Control", "max-age=60", "Surrogate-Control", "no-store"}, nil},
		{"event stream", []string{"Cache-Control", "max-age=60", "Content-Type", "text/event-stream"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &origin{h: fixed(200, "x", tc.header...)}
			g := start(t, o, "")
			for range 2 {
				res, _ := g.Get("/n", tc.req...)
				if strings.Contains(status(res), "stored") || strings.Contains(status(res), "hit") {
					t.Errorf("Cache-Status %q: stored", status(res))
				}
			}
			if n := o.n.Load(); n != 2 {
				t.Errorf("origin saw %d requests, want 2", n)
			}
		})
	}
}

func TestStoredWhenAllowed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []string
		req    []string
	}{
		{"authorization with public", []string{"Cache-Control", "public, max-age=60"}, []string{"Authorization", "Bearer x"}},
		{"authorization with s-maxage", []string{"Cache-Control", "s-maxage=60"}, []string{"Authorization", "Bearer x"}},
		{"set-cookie with public", []string{"Cache-Control", "public, max-age=60", "Set-Cookie", "s=1"}, nil},
		{"heuristic from Last-Modified", []string{"Last-Modified", time.Now().Add(-10 * time.Hour).UTC().Format(http.TimeFormat)}, nil},
		{"surrogate max-age over no freshness", []string{"Surrogate-Control", "max-age=60"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &origin{h: fixed(200, "x", tc.header...)}
			g := start(t, o, "")
			g.Get("/s", tc.req...)
			res, _ := g.Get("/s", tc.req...)
			wantStatus(t, res, "hit")
			if res.Header.Get("Surrogate-Control") != "" {
				t.Errorf("Surrogate-Control reached the client")
			}
			if n := o.n.Load(); n != 1 {
				t.Errorf("origin saw %d requests, want 1", n)
			}
		})
	}
}

func TestVary(t *testing.T) {
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprint(w, "lang="+r.Header.Get("Accept-Language"))
	}}
	g := start(t, o, "")
	g.Get("/v", "Accept-Language", "en")
	g.Get("/v", "Accept-Language", "fr")
	_, en := g.Get("/v", "Accept-Language", "en")
	_, fr := g.Get("/v", "Accept-Language", "fr")
	res, none := g.Get("/v")
	if en != "lang=en" || fr != "lang=fr" || none != "lang=" {
		t.Errorf("bodies %q %q %q", en, fr, none)
	}
	wantStatus(t, res, "fwd=vary-miss")
	if n := o.n.Load(); n != 3 {
		t.Errorf("origin saw %d requests, want 3 (en, fr, none)", n)
	}
}

func TestAcceptEncodingNormalized(t *testing.T) {
	o := &origin{h: fixed(200, "same", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding")}
	g := start(t, o, "")
	g.Get("/e", "Accept-Encoding", "gzip, deflate")
	res, _ := g.Get("/e", "Accept-Encoding", "deflate,gzip;q=0.9")
	wantStatus(t, res, "hit")
	res, _ = g.Get("/e", "Accept-Encoding", "br")
	wantStatus(t, res, "fwd=vary-miss")
}

func TestOnlyIfCached(t *testing.T) {
	o := &origin{h: fixed(200, "x", "Cache-Control", "max-age=60")}
	g := start(t, o, "")
	res, _ := g.Get("/o", "Cache-Control", "only-if-cached")
	if res.StatusCode != 504 || o.n.Load() != 0 {
		t.Errorf("only-if-cached miss: %d, origin %d; want 504 and no request (RFC 9111 5.2.1.7)", res.StatusCode, o.n.Load())
	}
	g.Get("/o")
	res, _ = g.Get("/o", "Cache-Control", "only-if-cached")
	if res.StatusCode != 200 {
		t.Errorf("only-if-cached hit: %d", res.StatusCode)
	}
}

func TestRequestDirectives(t *testing.T) {
	o := &origin{h: fixed(200, "x", "Cache-Control", "max-age=60", "ETag", `"a"`)}
	g := start(t, o, "")
	g.Get("/d")
	for _, h := range [][]string{
		{"Cache-Control", "no-cache"},
		{"Cache-Control", "min-fresh=120"},
		{"Pragma", "no-cache"},
	} {
		before := o.n.Load()
		res, _ := g.Get("/d", h...)
		if o.n.Load() != before+1 {
			t.Errorf("%v: not forwarded", h)
		}
		wantStatus(t, res, "fwd=request")
	}
	before := o.n.Load()
	res, _ := g.Get("/d", "Pragma", "no-cache", "Cache-Control", "max-stale")
	if o.n.Load() != before {
		t.Errorf("Pragma with Cache-Control: forwarded, but Pragma only counts without Cache-Control (RFC 9111 5.4)")
	}
	wantStatus(t, res, "hit")
}

func TestStaleWhileRevalidate(t *testing.T) {
	o := &origin{}
	var version atomic.Int64
	release := make(chan struct{})
	o.set(func(w http.ResponseWriter, r *http.Request) {
		v := version.Add(1)
		if v == 2 {
			<-release // the background refresh waits; the client must not
		}
		if v == 1 {
			w.Header().Set("Cache-Control", "max-age=0, stale-while-revalidate=60")
		} else {
			w.Header().Set("Cache-Control", "max-age=60") // the refreshed copy stays
		}
		fmt.Fprintf(w, "v%d", v)
	})
	g := start(t, o, "")
	g.Get("/w")
	start := time.Now()
	res, body := g.Get("/w")
	if body != "v1" || time.Since(start) > 2*time.Second {
		t.Fatalf("stale answer %q after %v", body, time.Since(start))
	}
	wantStatus(t, res, "hit", "stale-while-revalidate")
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, body = g.Get("/w")
		if body == "v2" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body != "v2" {
		t.Errorf("after the background refresh: %q, want v2", body)
	}
	if n := o.n.Load(); n != 2 {
		t.Errorf("origin saw %d requests, want 2: the stale answers while the refresh ran started no more", n)
	}
}

func TestStaleIfError(t *testing.T) {
	o := &origin{h: fixed(200, "good", "Cache-Control", "max-age=0, stale-if-error=60", "ETag", `"g"`)}
	g := start(t, o, "")
	g.Get("/f")
	o.set(fixed(503, "down"))
	res, body := g.Get("/f")
	if res.StatusCode != 200 || body != "good" {
		t.Errorf("origin 503: %d %q, want the stale copy (RFC 5861 4)", res.StatusCode, body)
	}
	wantStatus(t, res, "fwd=stale", "fwd-status=503", "stale-if-error")
	o.set(fixed(404, "gone"))
	res, _ = g.Get("/f")
	if res.StatusCode != 404 {
		t.Errorf("origin 404: %d; a 404 is an answer, not an error", res.StatusCode)
	}
}

func TestMustRevalidate(t *testing.T) {
	o := &origin{h: fixed(200, "good", "Cache-Control", "max-age=0, must-revalidate, stale-if-error=60", "ETag", `"g"`)}
	g := start(t, o, "")
	g.Get("/m")
	o.set(fixed(503, "down"))
	res, _ := g.Get("/m", "Cache-Control", "max-stale=100")
	if res.StatusCode != 503 {
		t.Errorf("must-revalidate with the origin failing: %d, want its 503, never the stale copy (RFC 9111 5.2.2.2)", res.StatusCode)
	}
}

func TestCollapsing(t *testing.T) {
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "one")
	}}
	g := start(t, o, "")
	var wg sync.WaitGroup
	var collapsed atomic.Int64
	var bad atomic.Int64
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := testkit.NewClient()
			defer c.CloseIdleConnections()
			res, err := c.Get(g.URL + "/many")
			if err != nil {
				bad.Add(1)
				return
			}
			defer res.Body.Close()
			if strings.Contains(status(res), "collapsed") {
				collapsed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := o.n.Load(); n != 1 || bad.Load() != 0 {
		t.Errorf("100 concurrent misses made %d upstream requests (%d failed), want 1", n, bad.Load())
	}
	if collapsed.Load() < 90 {
		t.Errorf("%d responses say collapsed, want about 99", collapsed.Load())
	}
}

// A key whose answer cannot be stored is not collapsed afterwards:
// queueing behind a request whose answer cannot be shared only delays
// (hit-for-miss). The first storable answer collapses again.
func TestHitForMiss(t *testing.T) {
	var inside, most atomic.Int64
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		defer inside.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(200 * time.Millisecond)
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, "personal")
	}}
	g := start(t, o, "")
	get := func() string {
		c := testkit.NewClient()
		defer c.CloseIdleConnections()
		res, err := c.Get(g.URL + "/personal")
		if err != nil {
			t.Error(err)
			return ""
		}
		defer res.Body.Close()
		return status(res)
	}
	if s := get(); strings.Contains(s, "stored") {
		t.Fatalf("first answer: Cache-Status %q, want it not stored", s)
	}
	var wg sync.WaitGroup
	var collapsed atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if strings.Contains(get(), "collapsed") {
				collapsed.Add(1)
			}
		}()
	}
	wg.Wait()
	if collapsed.Load() != 0 || most.Load() < 10 {
		t.Errorf("after a no-store answer: %d of 20 concurrent misses collapsed, at most %d at the origin at once; want 0 collapsed, all in parallel", collapsed.Load(), most.Load())
	}
	o.set(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "shared")
	})
	if s := get(); !strings.Contains(s, "stored") {
		t.Fatalf("storable answer: Cache-Status %q, want stored", s)
	}
	before := o.n.Load()
	if s := get(); !strings.Contains(s, "hit") || o.n.Load() != before {
		t.Errorf("after a storable answer: Cache-Status %q, %d more upstream requests; want a hit", s, o.n.Load()-before)
	}
}

func TestMissStreams(t *testing.T) {
	next := make(chan struct{})
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "first,")
		w.(http.Flusher).Flush()
		<-next
		fmt.Fprint(w, "second")
	}}
	g := start(t, o, "")
	res, err := g.Client().Get(g.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 6)
	if _, err := res.Body.Read(buf); err != nil || string(buf) != "first," {
		t.Fatalf("first part: %q %v", buf, err)
	}
	close(next)
	rest := make([]byte, 16)
	n, _ := res.Body.Read(rest)
	if string(rest[:n]) != "second" {
		t.Errorf("rest %q", rest[:n])
	}
	res.Body.Close()
	if _, body := g.Get("/stream"); body != "first,second" {
		t.Errorf("stored %q", body)
	}
}

func TestTooLargeStillStreams(t *testing.T) {
	big := strings.Repeat("z", 2<<20) // max_object_bytes is 1MiB
	o := &origin{h: fixed(200, big, "Cache-Control", "max-age=60")}
	g := start(t, o, "")
	for range 2 {
		if _, body := g.Get("/big"); len(body) != len(big) {
			t.Fatalf("body of %d bytes, want %d", len(body), len(big))
		}
	}
	if n := o.n.Load(); n != 2 {
		t.Errorf("origin saw %d requests, want 2 (too large to store)", n)
	}
}

// Cache-Status goes with the header, before the body: for a body of
// unknown length the cache cannot yet know it will fit, and says
// "storing", not "stored", whether or not it then does.
func TestStoringUnknownLength(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		stored bool
	}{{"fits", 10 << 10, true}, {"outgrows", 2 << 20, false}} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Repeat("c", tc.size)
			o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush() // chunked: no Content-Length
				fmt.Fprint(w, body)
			}}
			g := start(t, o, "")
			res, got := g.Get("/chunked")
			if len(got) != tc.size || res.Header.Get("Content-Length") != "" {
				t.Fatalf("body of %d bytes (Content-Length %q), want %d chunked", len(got), res.Header.Get("Content-Length"), tc.size)
			}
			wantStatus(t, res, "fwd=uri-miss", "detail=storing")
			if strings.Contains(status(res), "; stored") {
				t.Errorf("Cache-Status %q says stored before the body was seen", status(res))
			}
			res, _ = g.Get("/chunked")
			if hit := strings.Contains(status(res), "hit"); hit != tc.stored || o.n.Load() != map[bool]int64{true: 1, false: 2}[tc.stored] {
				t.Errorf("second request: Cache-Status %q after %d upstream requests; want stored=%v", status(res), o.n.Load(), tc.stored)
			}
		})
	}
}

// A body of unknown length that nothing flushes (a compressed variant)
// is held back with its header up to 64 KiB: one that ends within that
// is sent with a Content-Length and an exact Cache-Status; a longer one
// goes on as "storing".
func TestHeldUntilKnown(t *testing.T) {
	var bodies = map[string][]byte{"/small": []byte(strings.Repeat("small text ", 300))}
	big := make([]byte, 600<<10) // compresses to more than 64 KiB, less than max_object_bytes
	huge := make([]byte, 5<<19)  // 2.5 MiB: compresses to about 1.3 MiB, more than max_object_bytes
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range [][]byte{big, huge} {
		for i := range b {
			b[i] = 'a' + byte(rng.IntN(16)) // 4 bits of entropy a byte: about half its size in gzip
		}
	}
	bodies["/big"], bodies["/huge"] = big, huge
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(bodies[r.URL.Path])))
		w.Write(bodies[r.URL.Path])
	}}
	be := testkit.NewBackend(t, "origin", o)
	g := testkit.Start(t, `
caches:
  main: {memory: {max_bytes: 64MiB, max_object_bytes: 1MiB}}
routes:
  - upstream: ${ORIGIN}
    cache: {store: main}
    compress: {encodings: [gzip]}
`, testkit.Vars{"ORIGIN": be.URL})
	for _, tc := range []struct {
		path, status string
		length, hit  bool
	}{
		{"/small", "; stored", true, true},
		{"/big", "; detail=storing", false, true},
		{"/huge", "; detail=storing", false, false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			before := o.n.Load()
			res, body := g.Get(tc.path, "Accept-Encoding", "gzip")
			if res.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
			}
			wantStatus(t, res, "fwd=uri-miss", tc.status)
			if got := res.Header.Get("Content-Length"); (got != "") != tc.length || (tc.length && got != strconv.Itoa(len(body))) {
				t.Errorf("Content-Length %q for a body of %d bytes; want one: %v", got, len(body), tc.length)
			}
			res, again := g.Get(tc.path, "Accept-Encoding", "gzip")
			if hit := strings.Contains(status(res), "; hit"); hit != tc.hit || again != body {
				t.Errorf("second request: Cache-Status %q (same body: %v), want a hit: %v", status(res), again == body, tc.hit)
			}
			if n := o.n.Load() - before; n != map[bool]int64{true: 1, false: 2}[tc.hit] {
				t.Errorf("%d upstream requests", n)
			}
		})
	}
}

func TestIncompleteNotStored(t *testing.T) {
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "100")
		fmt.Fprint(w, "short")
		panic(http.ErrAbortHandler)
	}}
	g := start(t, o, "")
	for range 2 {
		res, err := g.Client().Get(g.URL + "/cut")
		if err == nil {
			res.Body.Close()
		}
	}
	if n := o.n.Load(); n != 2 {
		t.Errorf("origin saw %d requests, want 2 (an incomplete response is never stored, RFC 9111 3.3)", n)
	}
}

func TestUnsafeInvalidates(t *testing.T) {
	o := &origin{}
	g := start(t, o, "")
	cacheable := fixed(200, "x", "Cache-Control", "max-age=60")
	o.set(cacheable)
	for _, p := range []string{"/item", "/item/loc", "/item/cl", "/other"} {
		g.Get(p)
	}
	o.set(fixed(201, "", "Location", "/item/loc", "Content-Location", "http://"+g.Addr+"/item/cl"))
	g.Do(g.NewRequest("POST", "/item", strings.NewReader("new")))
	o.set(cacheable)
	for p, want := range map[string]string{"/item": "fwd=uri-miss", "/item/loc": "fwd=uri-miss", "/item/cl": "fwd=uri-miss", "/other": "hit"} {
		res, _ := g.Get(p)
		wantStatus(t, res, want)
	}
	// An error response invalidates nothing.
	o.set(fixed(500, "no"))
	g.Do(g.NewRequest("DELETE", "/other", nil))
	o.set(cacheable)
	res, _ := g.Get("/other")
	wantStatus(t, res, "hit")
}

func TestPurge(t *testing.T) {
	o := &origin{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if strings.HasPrefix(r.URL.Path, "/tagged") {
			w.Header().Set("Surrogate-Key", "products p-"+r.URL.Path[len("/tagged"):])
		}
		fmt.Fprint(w, r.URL.Path)
	}}
	g := start(t, o, "")
	paths := []string{"/a", "/dir/1", "/dir/2", "/dirx", "/tagged1", "/tagged2"}
	for _, p := range paths {
		g.Get(p)
	}
	res, body := g.Do(g.NewRequest("PURGE", "/a", nil))
	if res.StatusCode != 200 || !strings.Contains(body, `"purged":1`) {
		t.Errorf("PURGE /a: %d %s", res.StatusCode, body)
	}
	res, body = g.Do(g.NewRequest("PURGE", "/dir/*", nil))
	if res.StatusCode != 200 || !strings.Contains(body, `"purged":2`) {
		t.Errorf("PURGE /dir/*: %d %s", res.StatusCode, body)
	}
	res, body = g.Do(g.NewRequest("PURGE", "/", nil, "Surrogate-Key", "p-1"))
	if res.StatusCode != 200 || !strings.Contains(body, `"purged":1`) {
		t.Errorf("PURGE by tag: %d %s", res.StatusCode, body)
	}
	for p, want := range map[string]string{"/a": "miss", "/dir/1": "miss", "/dir/2": "miss", "/dirx": "hit", "/tagged1": "miss", "/tagged2": "hit"} {
		res, _ := g.Get(p)
		wantStatus(t, res, want)
		if res.Header.Get("Surrogate-Key") != "" {
			t.Errorf("%s: Surrogate-Key reached the client", p)
		}
	}
}

func TestPurgeRefused(t *testing.T) {
	o := &origin{h: fixed(200, "x", "Cache-Control", "max-age=60")}
	be := testkit.NewBackend(t, "origin", o)
	g := testkit.Start(t, `
caches:
  main: {memory: {}}
routes:
  - match: {path: /open}
    upstream: ${ORIGIN}
    cache: {store: main}
  - upstream: ${ORIGIN}
    cache: {store: main, purge_from: [10.0.0.0/8]}
`, testkit.Vars{"ORIGIN": be.URL})
	if res, _ := g.Do(g.NewRequest("PURGE", "/open/x", nil)); res.StatusCode != 405 {
		t.Errorf("PURGE without purge_from: %d, want 405", res.StatusCode)
	}
	if res, _ := g.Do(g.NewRequest("PURGE", "/x", nil)); res.StatusCode != 403 {
		t.Errorf("PURGE from outside purge_from: %d, want 403", res.StatusCode)
	}
	if o.n.Load() != 0 {
		t.Errorf("a refused PURGE reached the origin")
	}
}

func TestQueryKey(t *testing.T) {
	o := &origin{h: fixed(200, "q", "Cache-Control", "max-age=60")}
	g := start(t, o, ", key: {query: sorted, ignore_params: [utm_source]}")
	g.Get("/q?b=2&a=1&utm_source=x")
	res, _ := g.Get("/q?a=1&b=2")
	wantStatus(t, res, "hit")
	res, _ = g.Get("/q?a=1&b=3")
	wantStatus(t, res, "miss")
}
