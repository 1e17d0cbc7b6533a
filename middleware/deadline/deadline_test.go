package deadline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The limits are tens to hundreds of milliseconds, so the suite is quick,
// and every assertion has a wide margin: a test asserts that a failure
// happens (with seconds to spare) and not before the limit, or that steady
// traffic with gaps a thirtieth of the limit is never cut off. A client
// that stalls stalls until the test ends, never for a tuned duration. The
// servers are real loopback net/http servers, HTTP/1.1 and HTTP/2 (TLS).

// waitLong bounds every wait for something that must happen.
const waitLong = 10 * time.Second

// proto is a protocol to test over: start serves a handler on loopback
// and returns the server and a client for it.
type proto struct {
	name  string // as in Request.Proto
	major int
	start func(t *testing.T, h http.Handler) (*httptest.Server, *http.Client)
}

var protos = []proto{
	{"HTTP/1.1", 1, func(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv, srv.Client()
	}},
	{"HTTP/2.0", 2, func(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
		srv := httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv, srv.Client()
	}},
}

// outcome is what a handler saw.
type outcome struct {
	n       int64         // body bytes read or written
	err     error         // the first error
	elapsed time.Duration // from the handler's start to the error or the end
	idle    time.Duration // from the last successful read or write to the end
}

// wait returns the handler's outcome, failing the test if there is none
// within waitLong.
func wait(t *testing.T, ch <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(waitLong):
		t.Fatalf("the handler did not finish within %v", waitLong)
		return outcome{}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// reads is a handler that reads the whole request body and reports.
func reads(out chan<- outcome) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		last := start
		var n int64
		buf := make([]byte, 512)
		var err error
		for {
			var k int
			k, err = r.Body.Read(buf)
			n += int64(k)
			if k > 0 {
				last = time.Now()
			}
			if err != nil {
				break
			}
		}
		if err == io.EOF {
			err = nil
		}
		out <- outcome{n: n, err: err, elapsed: time.Since(start), idle: time.Since(last)}
	}
}

// writes is a handler that writes chunk every gap until it has written
// total bytes or a write fails, and reports. It flushes after each write
// unless chunk is larger than net/http's buffer, which such a write
// bypasses: then only the Write itself reaches the connection.
func writes(chunk []byte, gap time.Duration, total int64, out chan<- outcome) http.HandlerFunc {
	const bufferSize = 4 << 10 // net/http's response buffer, and more than its chunk header
	flush := len(chunk) <= bufferSize
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		start := time.Now()
		last := start
		var n int64
		var err error
		for n < total && err == nil {
			var k int
			k, err = w.Write(chunk)
			if err == nil && flush {
				err = rc.Flush()
			}
			if err == nil {
				n += int64(k)
				last = time.Now()
				time.Sleep(gap)
			}
		}
		out <- outcome{n: n, err: err, elapsed: time.Since(start), idle: time.Since(last)}
	}
}

// post sends a POST whose body is what the returned pipe writer gets, in
// the background. The pipe is closed when the test ends.
func post(t *testing.T, srv *httptest.Server, client *http.Client) *io.PipeWriter {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", srv.URL, pr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	t.Cleanup(func() {
		pw.CloseWithError(errors.New("test over"))
		<-done
	})
	return pw
}

// trickle writes one byte to w every gap, n times or until a write fails.
func trickle(w io.Writer, n int, gap time.Duration) {
	for range n {
		if _, err := w.Write([]byte{'x'}); err != nil {
			return
		}
		time.Sleep(gap)
	}
}

// TestBodyStall: a client that stops sending its body has the handler's
// read fail with a timeout once BodyIdle has passed.
func TestBodyStall(t *testing.T) {
	const idle = 50 * time.Millisecond
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			out := make(chan outcome, 1)
			srv, client := p.start(t, Middleware(Limits{BodyIdle: idle})(reads(out)))
			pw := post(t, srv, client)
			go pw.Write([]byte("hello")) // then nothing, until the test ends

			o := wait(t, out)
			if !isTimeout(o.err) {
				t.Fatalf("read %d bytes, then error %v, want a timeout", o.n, o.err)
			}
			if o.idle < idle {
				t.Errorf("read failed %v after the last byte, before the idle limit %v", o.idle, idle)
			}
		})
	}
}

// TestBodySlowButSteady: a body sent one byte at a time, each within the
// idle limit, is read whole although it takes longer than the limit.
func TestBodySlowButSteady(t *testing.T) {
	const idle, gap, n = 500 * time.Millisecond, 15 * time.Millisecond, 50
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			out := make(chan outcome, 1)
			srv, client := p.start(t, Middleware(Limits{BodyIdle: idle})(reads(out)))
			pw := post(t, srv, client)
			go func() {
				trickle(pw, n, gap)
				pw.Close()
			}()

			o := wait(t, out)
			if o.err != nil || o.n != n {
				t.Fatalf("read %d bytes in %v, error %v; want all %d", o.n, o.elapsed, o.err, n)
			}
			if o.elapsed < idle {
				t.Errorf("the body took %v, not longer than the idle limit %v: the test proves nothing", o.elapsed, idle)
			}
		})
	}
}

// TestStopReading: a client that stops reading the response has the
// handler's write fail once SendIdle has passed without progress.
func TestStopReading(t *testing.T) {
	const idle = 50 * time.Millisecond
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			out := make(chan outcome, 1)
			// Far more than the socket buffers and HTTP/2 flow control
			// windows hold.
			h := writes(make([]byte, 64<<10), 0, 1<<30, out)
			srv, client := p.start(t, Middleware(Limits{SendIdle: idle})(h))
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close() // and never read

			o := wait(t, out)
			if o.err == nil {
				t.Fatalf("the handler wrote all %d bytes to a client that reads nothing", o.n)
			}
			if o.idle < idle {
				t.Errorf("write failed %v after the last progress, before the idle limit %v", o.idle, idle)
			}
			t.Logf("cut off after %d bytes, %v without progress: %v", o.n, o.idle, o.err)
		})
	}
}

// TestSendSlowButSteady: a response written in pieces, each within the
// idle limit, goes out whole although it takes longer than the limit:
// flushed bytes, and writes too large for net/http's buffer, unflushed.
func TestSendSlowButSteady(t *testing.T) {
	const idle, gap, steps = 500 * time.Millisecond, 15 * time.Millisecond, 50
	for _, p := range protos {
		for _, chunk := range [][]byte{[]byte("x"), make([]byte, 64<<10)} {
			t.Run(fmt.Sprintf("%s/%dB", p.name, len(chunk)), func(t *testing.T) {
				testSendSteady(t, p, chunk, idle, gap, steps)
			})
		}
	}
}

func testSendSteady(t *testing.T, p proto, chunk []byte, idle, gap time.Duration, steps int) {
	n := steps * len(chunk)
	out := make(chan outcome, 1)
	srv, client := p.start(t, Middleware(Limits{SendIdle: idle})(writes(chunk, gap, int64(n), out)))
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o := wait(t, out)
	if o.err != nil || err != nil || len(body) != n {
		t.Fatalf("handler wrote %d bytes in %v (error %v), client read %d (error %v); want all %d", o.n, o.elapsed, o.err, len(body), err, n)
	}
	if o.elapsed < idle {
		t.Errorf("the response took %v, not longer than the idle limit %v: the test proves nothing", o.elapsed, idle)
	}
}

// TestTotalsNotExtended: the per-read and per-write deadlines never reach
// past ReadTotal and WriteTotal, however steadily the bytes move. The
// server itself has no timeouts here, so only the middleware can stop
// the request: steady traffic for 4s against an idle limit of 2s would
// run to its end if a deadline were extended past the cap.
func TestTotalsNotExtended(t *testing.T) {
	const total, idle, gap = 200 * time.Millisecond, 2 * time.Second, 15 * time.Millisecond
	const steps = int(2 * idle / gap)
	for _, p := range protos {
		t.Run(p.name+"/read", func(t *testing.T) {
			out := make(chan outcome, 1)
			srv, client := p.start(t, Middleware(Limits{BodyIdle: idle, ReadTotal: total})(reads(out)))
			pw := post(t, srv, client)
			go trickle(pw, steps, gap)
			checkCapped(t, wait(t, out), total, idle)
		})
		t.Run(p.name+"/write", func(t *testing.T) {
			out := make(chan outcome, 1)
			h := writes([]byte("x"), gap, int64(steps), out)
			srv, client := p.start(t, Middleware(Limits{SendIdle: idle, WriteTotal: total})(h))
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
			checkCapped(t, wait(t, out), total, idle)
		})
	}
}

// checkCapped fails unless o failed at the total cap: after half of it (the
// handler starts a little after the middleware) and well before the idle
// limit.
func checkCapped(t *testing.T, o outcome, total, idle time.Duration) {
	t.Helper()
	if o.err == nil {
		t.Fatalf("moved %d bytes in %v without error; the cap of %v was extended", o.n, o.elapsed, total)
	}
	if o.elapsed < total/2 || o.elapsed >= idle*3/4 {
		t.Errorf("failed after %v (%v), want at the cap of %v, long before the idle limit %v", o.elapsed, o.err, total, idle)
	}
}

// TestResponseController: through the wrapper, Flush sends what was
// written at once, and http.ResponseController reaches the connection
// (deadlines, and on HTTP/1.1 full duplex and Hijack).
func TestResponseController(t *testing.T) {
	limits := Limits{BodyIdle: time.Second, SendIdle: time.Second}
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			got := make(chan struct{})
			errs := make(chan error, 1)
			h := func(w http.ResponseWriter, r *http.Request) {
				errs <- func() error {
					rc := http.NewResponseController(w)
					if err := rc.SetReadDeadline(time.Now().Add(waitLong)); err != nil {
						return fmt.Errorf("SetReadDeadline: %w", err)
					}
					if err := rc.SetWriteDeadline(time.Now().Add(waitLong)); err != nil {
						return fmt.Errorf("SetWriteDeadline: %w", err)
					}
					if r.ProtoMajor == 1 {
						if err := rc.EnableFullDuplex(); err != nil {
							return fmt.Errorf("EnableFullDuplex: %w", err)
						}
					}
					io.WriteString(w, "first\n")
					if err := rc.Flush(); err != nil {
						return fmt.Errorf("ResponseController.Flush: %w", err)
					}
					select {
					case <-got:
					case <-time.After(waitLong):
						return errors.New("the client never saw the flushed line")
					}
					f, ok := w.(http.Flusher)
					if !ok {
						return errors.New("the writer is not an http.Flusher")
					}
					io.WriteString(w, "second\n")
					f.Flush()
					return nil
				}()
			}
			srv, client := p.start(t, Middleware(limits)(http.HandlerFunc(h)))
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			if line, err := br.ReadString('\n'); line != "first\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			close(got)
			if line, err := br.ReadString('\n'); line != "second\n" {
				t.Errorf("second line %q, %v", line, err)
			}
			if err := <-errs; err != nil {
				t.Error(err)
			}
			if resp.ProtoMajor != p.major {
				t.Errorf("served over %s, want %s", resp.Proto, p.name)
			}
		})
	}
}

// TestHijack: an upgrade handler can take the connection through the
// wrapper, and the deadlines the wrapper set do not cut the hijacked
// connection short (net/http clears them on Hijack; proxy's upgrade relay
// relies on it and sets none of its own).
func TestHijack(t *testing.T) {
	const idle = 50 * time.Millisecond
	errs := make(chan error, 1)
	h := func(w http.ResponseWriter, r *http.Request) {
		errs <- func() error {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return fmt.Errorf("Hijack: %w", err)
			}
			defer conn.Close()
			io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
			if err := brw.Flush(); err != nil {
				return err
			}
			time.Sleep(4 * idle) // past any deadline left from the request
			line, err := brw.ReadString('\n')
			if err != nil {
				return fmt.Errorf("read on the hijacked connection: %w", err)
			}
			if _, err := io.WriteString(conn, line); err != nil {
				return fmt.Errorf("write on the hijacked connection: %w", err)
			}
			return nil
		}()
	}
	srv := httptest.NewServer(Middleware(Limits{BodyIdle: idle, SendIdle: idle})(http.HandlerFunc(h)))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLong))
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 0\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	io.WriteString(conn, "ping\n")
	if line, err := br.ReadString('\n'); line != "ping\n" {
		t.Errorf("echo %q, %v", line, err)
	}
	if err := <-errs; err != nil {
		t.Error(err)
	}
}

// TestKeepAlive: a deadline the wrapper left at the end of one request
// does not fail the next request on the same connection, however long the
// connection idled in between, even where net/http writes to the
// connection before the handler writes through the wrapper (the
// "100 Continue" it sends when the handler first reads the body).
func TestKeepAlive(t *testing.T) {
	const idle = 50 * time.Millisecond
	h := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}
	srv := httptest.NewServer(Middleware(Limits{BodyIdle: idle, SendIdle: idle})(http.HandlerFunc(h)))
	t.Cleanup(srv.Close)
	client := srv.Client()
	for i := range 2 {
		reused := false
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		})
		req, err := http.NewRequestWithContext(ctx, "POST", srv.URL, strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Expect", "100-continue")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" || err != nil {
			t.Fatalf("request %d: body %q, %v", i+1, body, err)
		}
		if i == 1 && !reused {
			t.Fatal("the second request did not reuse the connection: the test proves nothing")
		}
		time.Sleep(4 * idle) // idle past both deadlines
	}
}

// TestPassesThrough: requests the limits do not stop are answered as
// without the middleware: plain, with a body echoed, with Expect:
// 100-continue, over both protocols.
func TestPassesThrough(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		io.Copy(w, r.Body)
	}
	for _, p := range protos {
		srv, client := p.start(t, Middleware(Limits{BodyIdle: time.Second, SendIdle: time.Second})(http.HandlerFunc(echo)))
		for _, c := range []struct {
			name   string
			method string
			body   string
			expect bool
		}{
			{"get", "GET", "", false},
			{"post", "POST", "hello", false},
			{"100-continue", "POST", "continued", true},
		} {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				req, err := http.NewRequest(c.method, srv.URL, strings.NewReader(c.body))
				if err != nil {
					t.Fatal(err)
				}
				if c.expect {
					req.Header.Set("Expect", "100-continue")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != c.body || err != nil {
					t.Errorf("%d %q %v, want 200 %q", resp.StatusCode, body, err, c.body)
				}
				if got := resp.Header.Get("X-Proto"); got != p.name {
					t.Errorf("served over %s, want %s", got, p.name)
				}
			})
		}
	}
}

// TestNoLimits: with neither idle limit, the handler is returned as is.
func TestNoLimits(t *testing.T) {
	called := false
	var h http.Handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	got := Middleware(Limits{ReadTotal: time.Second, WriteTotal: time.Second})(h)
	got.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !called {
		t.Fatal("the handler was not called")
	}
	if fmt.Sprintf("%p", got) != fmt.Sprintf("%p", h) {
		t.Error("Middleware wrapped the handler although no idle limit is set")
	}
}

// fdOf is the file descriptor under r, or -1. Like package net's sendfile,
// it takes any syscall.Conn: io.Copy from an *os.File hands the writer an
// os.fileWithoutWriteTo, which wraps the same file.
func fdOf(r io.Reader) int {
	sc, ok := r.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	raw.Control(func(u uintptr) { fd = int(u) })
	return fd
}

// sendfileConn records what net/http hands the connection's ReadFrom: a
// file, alone or under one *io.LimitedReader, is what the kernel can send
// without copying through user space (sendfile).
type sendfileConn struct {
	*net.TCPConn
	mu  *sync.Mutex
	fds *[]int // of each reader ReadFrom got, -1 for one that is no file
}

func (c sendfileConn) ReadFrom(r io.Reader) (int64, error) {
	src := r
	if lr, ok := src.(*io.LimitedReader); ok {
		src = lr.R
	}
	c.mu.Lock()
	*c.fds = append(*c.fds, fdOf(src))
	c.mu.Unlock()
	return c.TCPConn.ReadFrom(r)
}

type sendfileListener struct {
	net.Listener
	writeBuffer int // the connections' SO_SNDBUF, if set
	mu          sync.Mutex
	fds         []int
}

func (l *sendfileListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	if l.writeBuffer > 0 {
		if err := tc.SetWriteBuffer(l.writeBuffer); err != nil {
			return nil, err
		}
	}
	return sendfileConn{TCPConn: tc, mu: &l.mu, fds: &l.fds}, nil
}

// TestSendfile: a file copied to the wrapped writer (io.Copy, and
// http.ServeContent for a range) still reaches the TCP connection as the
// *os.File itself, so the kernel sends it, and arrives whole.
func TestSendfile(t *testing.T) {
	data := make([]byte, 3<<20+12345) // more than one of the wrapper's chunks
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opened := make(chan int, 1) // the file's descriptor, per request
	h := func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer f.Close()
		opened <- fdOf(f)
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the wrapped writer is not an io.ReaderFrom")
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/serve" {
			http.ServeContent(w, r, "blob", time.Time{}, f)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		io.Copy(w, f)
	}
	srv := httptest.NewUnstartedServer(Middleware(Limits{SendIdle: 5 * time.Second})(http.HandlerFunc(h)))
	ln := &sendfileListener{Listener: srv.Listener}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		name, path, rng string
		want            []byte
	}{
		{"io.Copy", "/copy", "", data},
		{"ServeContent", "/serve", "", data},
		{"ServeContent range", "/serve", "bytes=1000-2099999", data[1000:2100000]},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln.mu.Lock()
			ln.fds = nil
			ln.mu.Unlock()
			req, _ := http.NewRequest("GET", srv.URL+c.path, nil)
			if c.rng != "" {
				req.Header.Set("Range", c.rng)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(body, c.want) {
				t.Fatalf("got %d bytes (%v), want %d intact", len(body), err, len(c.want))
			}
			fd := <-opened
			if fd < 0 {
				t.Fatal("no descriptor for the file served")
			}
			ln.mu.Lock()
			defer ln.mu.Unlock()
			if len(ln.fds) == 0 {
				t.Fatal("the connection's ReadFrom was never used: the file went through user space")
			}
			for _, got := range ln.fds {
				if got != fd {
					t.Errorf("the connection's ReadFrom was handed descriptor %d, not the file's %d (-1: not a file): no sendfile", got, fd)
				}
			}
		})
	}
}

// TestSendfileSlowReader: a download read steadily, but slower than it
// could be sent, takes far longer than SendIdle in total and still goes out
// whole by sendfile: the deadline is extended per chunk, not set once for
// the whole file. Small socket buffers on both ends keep the kernel from
// absorbing the file.
func TestSendfileSlowReader(t *testing.T) {
	const idle = 500 * time.Millisecond
	const size, step, gap = 16 << 20, 128 << 10, 10 * time.Millisecond // about 13 MB/s: 1.3s in all, 80ms per MiB
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := make(chan outcome, 1)
	h := func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		start := time.Now()
		n, err := io.Copy(w, f)
		out <- outcome{n: n, err: err, elapsed: time.Since(start)}
	}
	srv := httptest.NewUnstartedServer(Middleware(Limits{SendIdle: idle})(http.HandlerFunc(h)))
	ln := &sendfileListener{Listener: srv.Listener, writeBuffer: 64 << 10}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				err = c.(*net.TCPConn).SetReadBuffer(64 << 10) // also stops the kernel growing it
			}
			return c, err
		},
	}}
	t.Cleanup(client.CloseIdleConnections)

	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make([]byte, 0, size)
	buf := make([]byte, step)
	for len(got) < size {
		k, err := io.ReadFull(resp.Body, buf[:min(step, size-len(got))])
		got = append(got, buf[:k]...)
		if err != nil {
			t.Fatalf("read %d of %d bytes: %v", len(got), size, err)
		}
		time.Sleep(gap)
	}
	o := wait(t, out)
	if o.err != nil || o.n != size || !bytes.Equal(got, data) {
		t.Fatalf("sent %d bytes (%v), received %d, intact: %v", o.n, o.err, len(got), bytes.Equal(got, data))
	}
	if o.elapsed < idle {
		t.Errorf("the download took %v, not longer than the idle limit %v: the test proves nothing", o.elapsed, idle)
	}
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if len(ln.fds) == 0 || slices.Contains(ln.fds, -1) {
		t.Errorf("the connection's ReadFrom got descriptors %v: not all the file, so no sendfile", ln.fds)
	}
}

// deadlineRecorder is a ResponseWriter that records the write deadlines
// set on it and, at each Write, how far away the one in force was.
type deadlineRecorder struct {
	httptest.ResponseRecorder
	sets    int
	current time.Time
	ahead   []time.Duration // current - now, at each Write
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.sets++
	d.current = t
	return nil
}

func (d *deadlineRecorder) Write(p []byte) (int, error) {
	d.ahead = append(d.ahead, time.Until(d.current))
	return len(p), nil
}

// TestWriteDeadlineGrain: the write deadline moves at most once per grain
// (a 64th of the idle limit), so a response of many quick writes sets it
// once, yet at every write the deadline in force is at least the idle
// limit away and at most the limit plus a grain.
func TestWriteDeadlineGrain(t *testing.T) {
	for _, c := range []struct {
		name    string
		idle    time.Duration
		gap     time.Duration
		maxSets int
		minSets int
		writes  int
	}{
		// One set when the handler starts; the writes and the final
		// flush are within a grain of it.
		{"quick", time.Hour, 0, 1, 1, 100},
		// Writes 3 ms apart against a grain of 1 ms: a set at the start,
		// at each write but (usually) the first, and at the end.
		{"paced", 64 * time.Millisecond, 3 * time.Millisecond, 22, 20, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for range c.writes {
					w.Write([]byte("x"))
					time.Sleep(c.gap)
				}
			})
			rec := &deadlineRecorder{}
			Middleware(Limits{SendIdle: c.idle})(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.sets < c.minSets || rec.sets > c.maxSets {
				t.Errorf("the deadline was set %d times for %d writes %v apart, want %d to %d", rec.sets, c.writes, c.gap, c.minSets, c.maxSets)
			}
			if len(rec.ahead) != c.writes {
				t.Fatalf("%d writes reached the connection, want %d", len(rec.ahead), c.writes)
			}
			// The deadline is read a few instructions after extend looked
			// at the clock: allow for them.
			const slack = 50 * time.Microsecond
			grain := c.idle / grains
			for i, a := range rec.ahead {
				if a < c.idle-slack || a > c.idle+grain {
					t.Errorf("write %d: the deadline was %v away, want between the idle limit %v and %v", i, a, c.idle, c.idle+grain)
				}
			}
		})
	}
}

// connWriter discards what is written but sets deadlines on a real TCP
// connection, as net/http's writer does, so a benchmark pays what a
// deadline costs (the runtime's poller timer), not a fake's.
type connWriter struct {
	httptest.ResponseRecorder
	c net.Conn
}

func (w *connWriter) Write(p []byte) (int, error)        { return len(p), nil }
func (w *connWriter) SetWriteDeadline(t time.Time) error { return w.c.SetWriteDeadline(t) }

// BenchmarkWrites is the middleware's cost for a response written in
// pieces: a 64 KiB cache hit is two writes of 32 KiB.
func BenchmarkWrites(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, writes := range []int{2, 16} {
		b.Run(fmt.Sprint(writes), func(b *testing.B) {
			chunk := make([]byte, 32<<10)
			h := Middleware(Limits{SendIdle: time.Minute})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for range writes {
					w.Write(chunk)
				}
			}))
			w := &connWriter{c: c}
			r := httptest.NewRequest("GET", "/", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
