package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// streamCacheConfig caches its one route in memory, with objects bounded
// far below the stream's size.
const streamCacheConfig = `listeners: [{address: "127.0.0.1:0"}]
log: {level: info, access: false}
limits: {drain_timeout: 2s}
caches:
  mem:
    memory: {max_bytes: 64MiB, max_object_bytes: 16MiB}
routes:
  - upstream: "%B%"
    cache: {store: mem}
`

const (
	// streamBytes is the size of the streamed response.
	streamBytes = 2 << 30
	// patternPeriod is the length of the stream's repeating pattern: a
	// prime, so that a piece lost or repeated in any power-of-two size (a
	// buffer, a chunk) shifts the pattern and shows.
	patternPeriod = 65521
	// rssGrowthBound is how far above its resting RSS the process may go
	// while it passes the stream on: generous, for the race detector's
	// shadow memory, and still a hundredth of the stream.
	rssGrowthBound = 200 << 20
	// rssSampleEvery is how often the process's RSS is read.
	rssSampleEvery = 50 * time.Millisecond
)

// TestCacheStreamsLargeResponseUnstored sends a 2 GiB cacheable response
// through the real binary, with and without Content-Length, and checks
// that the cache passes it on without holding it: the client gets every
// byte in order, the process's RSS stays within rssGrowthBound of where
// it was, and the response is not stored (it exceeds max_object_bytes).
//
// Not parallel: it keeps both cores busy for seconds, and other tests'
// timing bounds would suffer.
func TestCacheStreamsLargeResponseUnstored(t *testing.T) {
	pattern := make([]byte, patternPeriod)
	rand.NewChaCha8([32]byte{2}).Read(pattern)
	b := testkit.NewBackend(t, "stream", patternStream(pattern, streamBytes))
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.yaml")
	writeConfig(t, path, strings.ReplaceAll(streamCacheConfig, "%B%", b.URL))
	p := testkit.StartProcess(t, testkit.TestBinary(t), dir, "run", "-config", path)
	url := "http://" + p.WaitLog(60*time.Second, "listening").Str("address")
	c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	defer c.CloseIdleConnections()

	for _, variant := range []string{"length", "chunked"} {
		t.Run(variant, func(t *testing.T) {
			target := url + "/stream/" + variant
			rest := procStatusBytes(t, p.PID(), "VmRSS")
			sampler := sampleRSS(t, p.PID())
			start := time.Now()
			res, n, err := fetchChecked(c, target, pattern)
			took := time.Since(start)
			peak := sampler.stop()
			if err != nil {
				t.Fatalf("GET %s: %v", target, err)
			}
			if n != streamBytes {
				t.Errorf("the client read %d bytes, want %d", n, int64(streamBytes))
			}
			if cl := res.Header.Get("Content-Length"); variant == "length" && cl != strconv.Itoa(streamBytes) {
				t.Errorf("Content-Length %q, want %d", cl, streamBytes)
			}
			// Without a Content-Length the cache cannot know, when it
			// sends the header, whether the body will outgrow the store,
			// and says so (detail=storing) rather than "stored".
			cs := res.Header.Get("Cache-Status")
			if strings.Contains(cs, "; stored") {
				t.Errorf("Cache-Status %q claims a response over max_object_bytes was stored", cs)
			}
			if want := "detail=storing"; variant == "chunked" && !strings.Contains(cs, want) {
				t.Errorf("Cache-Status %q of a response without Content-Length, want %s", cs, want)
			}
			growth := peak - rest
			t.Logf("%s: %d MiB in %v (%.0f MiB/s); RSS at rest %d MiB, peak %d MiB (+%d MiB), VmHWM %d MiB; Cache-Status %q",
				variant, n>>20, took.Round(time.Millisecond), float64(n)/(1<<20)/took.Seconds(),
				rest>>20, peak>>20, growth>>20, procStatusBytes(t, p.PID(), "VmHWM")>>20, cs)
			if growth > rssGrowthBound {
				t.Errorf("RSS grew by %d MiB while streaming, want at most %d MiB", growth>>20, rssGrowthBound>>20)
			}
			checkNotStored(t, c, target, b)
		})
	}
}

// patternStream answers /stream/length and /stream/chunked with size
// bytes of pattern repeated, cacheable for a minute, with and without
// Content-Length, written as fast as the connection takes them.
func patternStream(pattern []byte, size int64) http.Handler {
	const write = 1 << 20
	buf := bytes.Repeat(pattern, write/len(pattern)+2)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "max-age=60")
		h.Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/stream/length" {
			h.Set("Content-Length", strconv.FormatInt(size, 10))
		}
		for off := int64(0); off < size; {
			at := int(off % int64(len(pattern)))
			n := int(min(write, size-off))
			if _, err := w.Write(buf[at : at+n]); err != nil {
				return // the client went away
			}
			off += int64(n)
		}
	})
}

// fetchChecked GETs url and reads the whole body, comparing it with
// pattern repeated; it returns the response (body closed), the byte
// count, and the first failure: a transport error or a wrong byte.
func fetchChecked(c *http.Client, url string, pattern []byte) (*http.Response, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return res, 0, fmt.Errorf("status %d", res.StatusCode)
	}
	pc := &patternCheck{pattern: pattern}
	n, err := io.CopyBuffer(pc, res.Body, make([]byte, 1<<20))
	return res, n, err
}

// patternCheck is a writer that fails at the first byte that differs from
// pattern repeated from offset 0.
type patternCheck struct {
	pattern []byte
	off     int64
}

func (pc *patternCheck) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		at := int(pc.off % int64(len(pc.pattern)))
		want := pc.pattern[at:]
		k := min(len(want), len(p))
		if !bytes.Equal(p[:k], want[:k]) {
			return 0, fmt.Errorf("the body differs from the origin's within bytes %d to %d", pc.off, pc.off+int64(k))
		}
		p = p[k:]
		pc.off += int64(k)
	}
	return n, nil
}

// checkNotStored asks for url again: it must be a miss that reaches the
// backend (read up to its header only), and one that only-if-cached
// refuses with 504 without reaching it.
func checkNotStored(t *testing.T, c *http.Client, url string, b *testkit.Backend) {
	t.Helper()
	before := b.Hits()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s again: %v", url, err)
	}
	res.Body.Close() // not worth another 2 GiB: the header tells
	if cs := res.Header.Get("Cache-Status"); res.StatusCode != http.StatusOK || !strings.Contains(cs, "fwd=uri-miss") {
		t.Errorf("GET %s again: status %d, Cache-Status %q; want 200 and a uri-miss", url, res.StatusCode, cs)
	}
	if b.Hits() != before+1 {
		t.Errorf("GET %s again did not reach the backend", url)
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cache-Control", "only-if-cached")
	res, err = c.Do(req)
	if err != nil {
		t.Fatalf("GET %s only-if-cached: %v", url, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("GET %s only-if-cached: status %d, want 504 (nothing stored)", url, res.StatusCode)
	}
	if b.Hits() != before+1 {
		t.Errorf("GET %s only-if-cached reached the backend", url)
	}
}

// rssSampler reads a process's VmRSS every rssSampleEvery and keeps the
// highest value.
type rssSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak int64 // read after wg.Wait
}

// sampleRSS starts sampling pid's RSS until stop.
func sampleRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), peak: procStatusBytes(t, pid, "VmRSS")}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(rssSampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
			if v, err := readProcStatus(pid, "VmRSS"); err == nil {
				s.peak = max(s.peak, v)
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak RSS in bytes.
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.peak
}

// procStatusBytes is field (a "kB" line such as VmRSS) of
// /proc/pid/status, in bytes; failing to read it fails the test.
func procStatusBytes(t *testing.T, pid int, field string) int64 {
	t.Helper()
	v, err := readProcStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readProcStatus(pid int, field string) (int64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(raw)) {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", path, field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}
