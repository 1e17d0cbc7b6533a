package h1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveOn serves h with s's settings on a loopback listener until
// the test ends.
func serveOn(t *testing.T, s *Server, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Handler = h
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

// closedWithin reports how long the server took to close c (or fails
// when it does not within limit), reading and discarding what comes.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection is still open after %s", limit)
	}
	return time.Since(start)
}

// TestIdleTimeout: a keep-alive connection with no next request is
// closed after IdleTimeout; one whose client sends part of a head is
// closed after ReadHeaderTimeout, unanswered; a request's body that
// stalls past ReadTimeout fails the handler's read.
func TestIdleTimeout(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	t.Run("idle", func(t *testing.T) {
		addr := serveOn(t, &Server{IdleTimeout: 200 * time.Millisecond, ReadHeaderTimeout: 5 * time.Second}, ok)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%v %v", res, err)
		}
		io.Copy(io.Discard, res.Body)
		if d := closedWithin(t, c, 3*time.Second); d < 150*time.Millisecond {
			t.Errorf("closed after %s, before the idle timeout of 200ms", d)
		}
	})
	t.Run("head", func(t *testing.T) {
		addr := serveOn(t, &Server{IdleTimeout: 5 * time.Second, ReadHeaderTimeout: 200 * time.Millisecond}, ok)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		start := time.Now()
		b, _ := io.ReadAll(c) // closed unanswered
		if len(b) > 0 {
			t.Errorf("answered %q", b)
		}
		if d := time.Since(start); d > 3*time.Second || d < 150*time.Millisecond {
			t.Errorf("closed after %s, want about 200ms", d)
		}
	})
	t.Run("body", func(t *testing.T) {
		got := make(chan error, 1)
		addr := serveOn(t, &Server{ReadTimeout: 200 * time.Millisecond}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := io.ReadAll(r.Body)
			got <- err
		}))
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
		select {
		case err := <-got:
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Errorf("body read: %v, want a timeout", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the stalled body never timed out")
		}
	})
}

// TestMaxHeaderCount: more fields than MaxHeaderCount is a 431 that
// never reaches the handler; exactly that many is served.
func TestMaxHeaderCount(t *testing.T) {
	reached := make(chan struct{}, 2)
	addr := serveOn(t, &Server{MaxHeaderCount: 10}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- struct{}{}
	}))
	for _, tc := range []struct {
		fields int
		want   int
	}{{10, 200}, {11, 431}} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// Host is one of the fields.
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"+strings.Repeat("X-A: 1\r\n", tc.fields-1)+"\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil || res.StatusCode != tc.want {
			t.Errorf("%d fields: %v %v, want %d", tc.fields, res, err, tc.want)
		}
	}
	if len(reached) != 1 {
		t.Errorf("the handler ran %d times, want once", len(reached))
	}
}

// TestIdleTimeoutFromLastRequest: a connection whose requests come
// closer together than the deadline's slack keeps an older deadline, and
// the idle timeout still runs from the last answer: never earlier.
func TestIdleTimeoutFromLastRequest(t *testing.T) {
	const idle = 800 * time.Millisecond // slack: idle/8 = 100ms
	addr := serveOn(t, &Server{IdleTimeout: idle, ReadHeaderTimeout: 5 * time.Second},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	get := func() {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%v %v", res, err)
		}
		io.Copy(io.Discard, res.Body)
	}
	get()
	time.Sleep(90 * time.Millisecond) // within the slack: the first deadline is kept
	get()
	start := time.Now()
	c.SetReadDeadline(start.Add(5 * time.Second))
	io.Copy(io.Discard, br)
	if d := time.Since(start); d < idle-30*time.Millisecond {
		t.Errorf("closed %s after the last answer, before the idle timeout of %s", d, idle)
	}
}

// TestChunkOverhead: a chunked body of tiny chunks with long extensions
// fails its read once its framing passes 16 KiB beyond what the data
// pays for, as net/http's decoder does; tiny chunks without extensions
// are read whole. An empty element of a Trailer list is ignored.
func TestChunkOverhead(t *testing.T) {
	got := make(chan error, 1)
	addr := serveOn(t, &Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}))
	ext := ";e=" + strings.Repeat("a", 200)
	for _, tc := range []struct {
		name, chunk string
		fails       bool
	}{{"tiny chunks", "1\r\nx\r\n", false}, {"long extensions", "1" + ext + "\r\nx\r\n", true}} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nTrailer: X-A,,\r\nTransfer-Encoding: chunked\r\n\r\n"+
			strings.Repeat(tc.chunk, 300)+"0\r\n\r\n")
		select {
		case err := <-got:
			if (err != nil) != tc.fails {
				t.Errorf("%s: read error %v, want one: %v", tc.name, err, tc.fails)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the handler never finished reading", tc.name)
		}
		c.Close()
	}
}
