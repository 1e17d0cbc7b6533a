package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// pattern is n bytes of a sequence a cut or reordered copy would break.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// procIO is the process's bytes passed to read(2) and write(2) (and
// their vector forms) so far: /proc/self/io's rchar and wchar. Bytes
// spliced between sockets are in neither.
func procIO(t *testing.T) (r, w int64) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatalf("this test counts the process's I/O in /proc/self/io: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "rchar":
			r = n
		case "wchar":
			w = n
		}
	}
	return r, w
}

// spliceBackend answers GET /down/N with N bytes of pattern, and POST with
// "ok N" when the body is pattern, reading it in user space (as the
// client does): so a body the proxy copies through user space costs the
// process its size twice more in reads and writes, and a spliced one
// costs nothing more.
func spliceBackend(stall time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if strings.HasPrefix(r.URL.Path, "/stall") {
				time.Sleep(stall)
			}
			got, err := io.ReadAll(r.Body)
			if err != nil || !bytes.Equal(got, pattern(len(got))) {
				http.Error(w, fmt.Sprintf("body of %d bytes, not the pattern (%v)", len(got), err), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "ok %d", len(got))
			return
		}
		if strings.HasPrefix(r.URL.Path, "/late") {
			time.Sleep(stall / 4) // the head comes late, then all of it at once
		}
		n, _ := strconv.Atoi(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		body := pattern(n)
		if strings.HasPrefix(r.URL.Path, "/stall") {
			w.Write(body[:n/2])
			w.(http.Flusher).Flush()
			time.Sleep(stall)
			body = body[n/2:]
		}
		w.Write(body)
	})
}

// TestSpliceBothWays: a large Content-Length body goes socket to socket
// in the kernel through the whole proxy (the engine, the deadline and
// body limit middleware, the access log, the upstream client), download
// and upload, whole and in order, and counted in the access log; a small
// one still goes through user space. Not parallel: it counts the
// process's I/O.
func TestSpliceBothWays(t *testing.T) {
	if testkit.Engine() == "stdlib" {
		t.Log("the stdlib engine copies through user space: only the bodies are checked")
	}
	b := testkit.NewBackend(t, "b", spliceBackend(0))
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", client_body_timeout: 5s, send_timeout: 5s}]
limits: {max_body_bytes: 32MiB}
upstreams:
  pool: {targets: ["${B}"], read_timeout: 5s, send_timeout: 5s}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})
	const size = 32 << 20
	kernel := testkit.Engine() != "stdlib"

	for _, n := range []int{size, 16 << 10} {
		t.Run("download/"+itoa(n), func(t *testing.T) {
			r0, w0 := procIO(t)
			res, body := g.Get("/down/" + itoa(n))
			r1, w1 := procIO(t)
			if res.StatusCode != 200 || !bytes.Equal([]byte(body), pattern(n)) {
				t.Fatalf("download: %d, %d bytes, not the %d of the pattern", res.StatusCode, len(body), n)
			}
			if n == size && kernel {
				// The backend's write and the client's read: size each.
				if dr, dw := r1-r0, w1-w0; dr > size*3/2 || dw > size*3/2 {
					t.Errorf("downloading %d bytes read %d and wrote %d in user space; spliced, both would be about %d", n, dr, dw, n)
				}
			}
			e := g.Access.Wait(t, 5*time.Second, "request", "path", "/down/"+itoa(n))
			if got, _ := strconv.ParseFloat(e.Str("bytes"), 64); got != float64(n) {
				t.Errorf("access log bytes %q, want %d", e.Str("bytes"), n)
			}
		})
		t.Run("upload/"+itoa(n), func(t *testing.T) {
			r0, w0 := procIO(t)
			res, body := g.Do(g.NewRequest("POST", "/up", bytes.NewReader(pattern(n))))
			r1, w1 := procIO(t)
			if res.StatusCode != 200 || body != "ok "+itoa(n) {
				t.Fatalf("upload: %d %q, want 200 \"ok %d\"", res.StatusCode, body, n)
			}
			if n == size && kernel {
				if dr, dw := r1-r0, w1-w0; dr > size*3/2 || dw > size*3/2 {
					t.Errorf("uploading %d bytes read %d and wrote %d in user space; spliced, both would be about %d", n, dr, dw, n)
				}
			}
		})
	}
	t.Run("upload over the limit", func(t *testing.T) {
		res, _ := g.Do(g.NewRequest("POST", "/up", bytes.NewReader(pattern(size+1))))
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("upload of the limit and a byte: %d, want 413", res.StatusCode)
		}
	})
}

// TestSplicePauses: on the spliced path every pause is still bounded by
// its own limit, and only by it: a target stalling mid-response past
// read_timeout cuts the answer; a client that stops reading past
// send_timeout loses the connection; a client stalling its upload past
// client_body_timeout gets 408; a target that stops taking an upload past
// the upstream send_timeout gives 504.
func TestSplicePauses(t *testing.T) {
	t.Parallel()
	const limit = 300 * time.Millisecond
	b := testkit.NewBackend(t, "b", spliceBackend(2*time.Second))
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", client_body_timeout: 300ms, send_timeout: 300ms}]
limits: {max_body_bytes: 0}
upstreams:
  pool: {targets: ["${B}"], read_timeout: 300ms, send_timeout: 300ms}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})
	const size = 8 << 20

	t.Run("target stalls mid-response", func(t *testing.T) {
		c := testkit.Dial(t, g.Addr)
		start := time.Now()
		c.Send("GET /stall/" + itoa(size) + " HTTP/1.1\nHost: x\n\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(c.R, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		if err == nil || n >= size {
			t.Errorf("got %d of %d bytes (%v); want the answer cut", n, size, err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("cut after %v, want about read_timeout (%v)", d, limit)
		}
	})
	t.Run("target answers late", func(t *testing.T) {
		// Past send_timeout: the write deadline runs from the head's
		// write, not from the request.
		res, body := g.Get("/late/" + itoa(size))
		if res.StatusCode != 200 || len(body) != size {
			t.Errorf("late answer: %d with %d of %d bytes", res.StatusCode, len(body), size)
		}
	})
	t.Run("client stops reading", func(t *testing.T) {
		c := testkit.Dial(t, g.Addr)
		c.Send("GET /down/" + itoa(64<<20) + " HTTP/1.1\nHost: x\n\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(c.R, nil) // the body is on its way
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // far past send_timeout
		n, err := io.Copy(io.Discard, res.Body)
		if n >= 64<<20 {
			t.Errorf("a client that stopped reading got all %d bytes (%v)", n, err)
		}
	})
	t.Run("client stalls its upload", func(t *testing.T) {
		c := testkit.Dial(t, g.Addr)
		c.Send("POST /up HTTP/1.1\nHost: x\nContent-Length: " + itoa(size) + "\n\n")
		c.SendBytes(string(pattern(256 << 10)))
		start := time.Now()
		res, _, err := c.TryReadResponse("POST")
		if err != nil || res.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("stalled upload: %v %v, want 408", res, err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("answered after %v, want about client_body_timeout (%v)", d, limit)
		}
	})
	t.Run("target stops taking the upload", func(t *testing.T) {
		nc, err := net.Dial("tcp", g.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		body := pattern(64 << 20) // made before: the race detector makes it slow
		start := time.Now()
		go func() {
			fmt.Fprintf(nc, "POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
			nc.Write(body) // fails once the proxy gives up
		}()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil || res.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("target not taking the upload: %v %v, want 504", res, err)
		}
		if d := time.Since(start); d > 1800*time.Millisecond {
			t.Errorf("answered after %v, want about send_timeout (%v) once the buffers are full", d, limit)
		}
	})
}
