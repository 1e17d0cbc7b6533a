package cache_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
)

// BenchmarkServedHit is a memory-cache hit served by a real Gatehouse
// over loopback, as bench/run.sh's cache-hit scenario serves it: the
// listener's middleware (deadline included), net/http's header and body
// writing, the socket. The client is a raw keep-alive connection that
// sends a fixed request and skips the answer without allocating, so
// allocs/op is Gatehouse's. user-ns/op and sys-ns/op are the process's
// CPU time per hit, client included (bench/run.sh found the gap to nginx
// in user time); ns/op is one request's round trip.
func BenchmarkServedHit(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			body := bytes.Repeat([]byte("x"), size)
			be := testkit.NewBackend(b, "origin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Header().Set("Content-Length", strconv.Itoa(len(body))) // as bench/run.sh's nginx backend
				w.Write(body)
			}))
			g := testkit.Start(b, `
log: {access: false}
caches:
  main: {memory: {max_bytes: 256MiB, max_object_bytes: 16MiB}}
routes:
  - upstream: ${ORIGIN}
    cache: {store: main}
`, testkit.Vars{"ORIGIN": be.URL})
			c := dialRaw(b, g.Addr)
			if st := c.get(b, true); !strings.Contains(st, "stored") && !strings.Contains(st, "fwd=") {
				b.Fatalf("first request: Cache-Status %q, want a stored miss", st)
			}
			if st := c.get(b, true); !strings.Contains(st, "hit") {
				b.Fatalf("second request: Cache-Status %q, want a hit", st)
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			user0, sys0 := cpuTime()
			for b.Loop() {
				c.get(b, false)
			}
			user, sys := cpuTime()
			b.ReportMetric(float64(user-user0)/float64(b.N), "user-ns/op")
			b.ReportMetric(float64(sys-sys0)/float64(b.N), "sys-ns/op")
			if n := be.Hits(); n != 1 {
				b.Fatalf("the origin answered %d requests, want 1", n)
			}
		})
	}
}

// rawConn is a keep-alive HTTP/1.1 connection that reads answers with a
// fixed buffer.
type rawConn struct {
	c   net.Conn
	r   *bufio.Reader
	req []byte
}

func dialRaw(b *testing.B, addr string) *rawConn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &rawConn{c: c, r: bufio.NewReaderSize(c, 128<<10),
		req: []byte("GET /big HTTP/1.1\r\nHost: bench.example\r\n\r\n")}
}

// get sends the request and reads the answer, which must be a 200 with a
// Content-Length; with withStatus it returns the Cache-Status (the loop
// does not ask: the string would allocate).
func (c *rawConn) get(b *testing.B, withStatus bool) string {
	if _, err := c.c.Write(c.req); err != nil {
		b.Fatal(err)
	}
	length, status := -1, ""
	for first := true; ; first = false {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case first:
			if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
				b.Fatalf("status line %q", line)
			}
		case len(line) == 0:
			if length < 0 {
				b.Fatal("no Content-Length")
			}
			if _, err := c.r.Discard(length); err != nil {
				b.Fatal(err)
			}
			return status
		case hasField(line, "Content-Length: "):
			length = atoi(line[len("Content-Length: "):])
		case withStatus && hasField(line, "Cache-Status: "):
			status = string(line[len("Cache-Status: "):])
		}
	}
}

func hasField(line []byte, prefix string) bool {
	return len(line) >= len(prefix) && string(line[:len(prefix)]) == prefix
}

func atoi(p []byte) int {
	n := 0
	for _, d := range p {
		n = n*10 + int(d-'0')
	}
	return n
}

// cpuTime is the process's user and system time.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// writeCounter counts the writes it gets and keeps the bytes.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestMemoryBodyWrites: the memory store hands a body of up to 64 KiB to
// its writer in one call (it is joined when committed), and a larger one
// in its 32 KiB chunks, each byte intact.
func TestMemoryBodyWrites(t *testing.T) {
	for _, c := range []struct {
		size, writes int
		announced    bool
	}{
		{1 << 10, 1, true},
		{64 << 10, 1, true},
		{64 << 10, 1, false},
		{40 << 10, 1, false},
		{64<<10 + 1, 3, true},
		{96 << 10, 3, false},
	} {
		t.Run(fmt.Sprintf("%d/announced=%v", c.size, c.announced), func(t *testing.T) {
			st := store.NewMemory(store.MemoryOptions{MaxBytes: 64 << 20})
			defer st.Close()
			body := make([]byte, c.size)
			for i := range body {
				body[i] = byte(i * 7)
			}
			hint := int64(-1)
			if c.announced {
				hint = int64(c.size)
			}
			w, err := st.Create(t.Context(), "k", "v", store.Entry{Expires: time.Now().Add(time.Hour)}, hint)
			if err != nil {
				t.Fatal(err)
			}
			for p := body; len(p) > 0; p = p[min(len(p), 5000):] { // as a proxied body arrives
				if _, err := w.Write(p[:min(len(p), 5000)]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			vs, _ := st.Lookup(t.Context(), "k")
			if len(vs) != 1 {
				t.Fatalf("%d variants stored, want 1", len(vs))
			}
			var out writeCounter
			if n, err := vs[0].Body.WriteTo(t.Context(), &out); err != nil || n != int64(c.size) {
				t.Fatalf("WriteTo = %d, %v; want %d", n, err, c.size)
			}
			if !bytes.Equal(out.Bytes(), body) {
				t.Error("the body read back differs from the one stored")
			}
			if out.writes != c.writes {
				t.Errorf("the body came in %d writes, want %d", out.writes, c.writes)
			}
		})
	}
}
