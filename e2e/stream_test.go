package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// hashBody answers with the hex SHA-256 and the length of the request body.
func hashBody() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Length", strconv.FormatInt(n, 10))
		io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
	})
}

// TestLargeRequestBody streams 50 MiB generated on the fly, with no
// declared length (chunked), through a route whose limit is above it.
func TestLargeRequestBody(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "hash", hashBody())
	g := testkit.Start(t, `
limits: {max_body_bytes: 1MiB}
routes:
  - {match: {path: /upload}, upstream: "${B}", max_body_bytes: 64MiB}
`, testkit.Vars{"B": b.URL})

	const size = 50 << 20
	sum := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{1}), size), sum)
	req := g.NewRequest(http.MethodPost, "/upload", io.NopCloser(src)) // NopCloser hides the length
	res, body := g.Do(req)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %q", res.StatusCode, body)
	}
	if got := res.Header.Get("X-Length"); got != strconv.Itoa(size) {
		t.Errorf("backend read %s bytes, want %d", got, size)
	}
	if want := hex.EncodeToString(sum.Sum(nil)); body != want {
		t.Errorf("backend hash %s, want %s", body, want)
	}
	if te := b.Last().Header.Get("Content-Length"); te != "" {
		t.Errorf("backend saw Content-Length %q for a chunked upload", te)
	}
}

// TestServerSentEvents: the backend sends event 1, then waits until the
// test has read event 1 through the proxy before sending event 2. A proxy
// that buffered the response would deadlock here (and fail on the deadline).
func TestServerSentEvents(t *testing.T) {
	t.Parallel()
	next := make(chan struct{})
	b := testkit.NewBackend(t, "sse", testkit.SSE(next))
	g := testkit.Start(t, `
routes:
  - {match: {path: /events}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	res, err := g.Client().Get(g.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	events := make(chan string)
	go func() {
		defer close(events)
		r := bufio.NewReader(res.Body)
		var ev strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\n" {
				events <- ev.String()
				ev.Reset()
				continue
			}
			ev.WriteString(line)
		}
	}()
	read := func(want string) {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok || ev != want {
				t.Fatalf("event %q (open %v), want %q", ev, ok, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %q did not arrive: the proxy is buffering the stream", want)
		}
	}
	read("id: 1\ndata: event 1\n")
	close(next)
	read("id: 2\ndata: event 2\n")
	if _, ok := <-events; ok {
		t.Error("more events than sent")
	}
}

func TestResponseTrailers(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "trailers", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		w.WriteHeader(200)
		io.WriteString(w, "body")
		w.Header().Set("X-Checksum", "abc123")
		w.Header().Set(http.TrailerPrefix+"X-Late", "undeclared")
	}))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	res, body := g.Get("/", "TE", "trailers")
	if res.StatusCode != 200 || body != "body" {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	if got := res.Trailer.Get("X-Checksum"); got != "abc123" {
		t.Errorf("trailer X-Checksum %q, want abc123 (trailers %v)", got, res.Trailer)
	}
	if got := res.Trailer.Get("X-Late"); got != "undeclared" {
		t.Errorf("trailer X-Late %q, want undeclared (trailers %v)", got, res.Trailer)
	}
	if got := b.Last().Header.Get("Te"); got != "trailers" {
		t.Errorf("backend saw TE %q, want trailers", got)
	}
}

// TestRequestTrailers sends a chunked request with a trailer from a raw
// client; the backend must receive the trailer after the body.
func TestRequestTrailers(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	res, _ := testkit.RoundTrip(t, g.Addr, "POST /upload HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nTrailer: X-Checksum\n\n"+
		"5\nhello\n6\n world\n0\nX-Checksum: sum-42\n\n")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	last := b.Last()
	if string(last.Body) != "hello world" {
		t.Errorf("body %q", last.Body)
	}
	if got := last.Trailer.Get("X-Checksum"); got != "sum-42" {
		t.Errorf("backend trailer X-Checksum %q, want sum-42 (trailers %v)", got, last.Trailer)
	}
}

// TestLargeResponseBody streams a 20 MiB download of unknown length.
func TestLargeResponseBody(t *testing.T) {
	t.Parallel()
	const size = 20 << 20
	b := testkit.NewBackend(t, "download", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, io.LimitReader(rand.NewChaCha8([32]byte{2}), size))
	}))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	want := sha256.New()
	io.Copy(want, io.LimitReader(rand.NewChaCha8([32]byte{2}), size))
	res, err := g.Client().Get(g.URL + "/file")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := sha256.New()
	n, err := io.Copy(got, res.Body)
	if err != nil || n != size {
		t.Fatalf("read %d bytes, %v; want %d", n, err, size)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Error("downloaded bytes differ from the backend's")
	}
}

// TestExpectContinue: a client that waits for "100 Continue" before sending
// its body gets it once the backend asks for the body, well before the
// transport's one-second fallback.
func TestExpectContinue(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
limits: {max_body_bytes: 1KiB}
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	t.Run("continue", func(t *testing.T) {
		c := testkit.Dial(t, g.Addr)
		start := time.Now()
		c.Send("POST /up HTTP/1.1\nHost: x\nContent-Length: 5\nExpect: 100-continue\n\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := c.R.ReadString('\n')
		if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
			t.Fatalf("first line %q, %v; want 100 Continue", line, err)
		}
		if _, err := c.R.ReadString('\n'); err != nil { // the blank line ending the 100
			t.Fatal(err)
		}
		if d := time.Since(start); d > 900*time.Millisecond {
			t.Errorf("100 Continue took %s: the backend's 100 was not relayed", d)
		}
		c.SendBytes("hello")
		res, body := c.ReadResponse("POST")
		if res.StatusCode != 200 || body != "b" || string(b.Last().Body) != "hello" {
			t.Errorf("got %d %q, backend body %q", res.StatusCode, body, b.Last().Body)
		}
	})
	t.Run("too large", func(t *testing.T) {
		c := testkit.Dial(t, g.Addr)
		c.Send("POST /up HTTP/1.1\nHost: x\nContent-Length: 4096\nExpect: 100-continue\n\n")
		res, _ := c.ReadResponse("POST")
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413 without 100 Continue", res.StatusCode)
		}
	})
}
