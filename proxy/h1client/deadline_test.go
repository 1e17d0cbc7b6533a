package h1client

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// countingConn counts the deadline changes made on a connection: sets
// all of them, writeSets those of the write deadline alone.
type countingConn struct {
	net.Conn
	sets, writeSets atomic.Int64
}

func (c *countingConn) SetDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetDeadline(t)
}

func (c *countingConn) SetReadDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetReadDeadline(t)
}

func (c *countingConn) SetWriteDeadline(t time.Time) error {
	c.sets.Add(1)
	c.writeSets.Add(1)
	return c.Conn.SetWriteDeadline(t)
}

// SyscallConn keeps the liveness peek working through the wrapper.
func (c *countingConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}

// target is a loopback server running serve on each connection it
// accepts (closed when serve returns, or at the test's end); it counts
// the connections.
func target(t *testing.T, serve func(c net.Conn)) (addr string, accepts *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepts = new(atomic.Int32)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), accepts
}

// answering is a serve function that answers every request head with
// resp, after pause (nothing stops it sooner).
func answering(resp string, pause time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 8192)
		have := 0
		for {
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			for {
				i := bytes.Index(buf[:have], []byte("\r\n\r\n"))
				if i < 0 {
					break
				}
				time.Sleep(pause)
				if _, err := c.Write([]byte(resp)); err != nil {
					return
				}
				have = copy(buf, buf[i+4:have])
			}
		}
	}
}

// nullWriter is a ResponseWriter that keeps only its header.
type nullWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) WriteHeader(code int)        { w.code = code }
func (w *nullWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// prodOpts are the production defaults (config/defaults.go).
func prodOpts() proxy.TransportOptions {
	return proxy.TransportOptions{DialTimeout: 5 * time.Second, ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout: 90 * time.Second, MaxIdleConns: 128, SendTimeout: 60 * time.Second, ReadTimeout: 60 * time.Second}
}

// counted is a forwarder whose one pooled connection to addr counts its
// deadline changes.
func counted(t *testing.T, o proxy.TransportOptions, addr string) (*Forwarder, *pconn, *countingConn) {
	t.Helper()
	f := New(o, nil)
	t.Cleanup(f.Close)
	p := f.pool(addr)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: raw}
	pc := newPconn(p, cc)
	p.put(pc)
	return f, pc, cc
}

func plainGET() *http.Request {
	return &http.Request{Method: "GET", URL: &url.URL{Opaque: "/"}, Host: "gatehouse.test",
		Header: http.Header{"Accept": {"*/*"}}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

const kibResp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n"

// TestDeadlineChangesPerGET pins how often a plain keep-alive GET
// changes its connection's deadlines (each change re-arms a runtime
// timer under a lock; it used to be five per GET). The production
// timeouts are all set, so every wait is bounded; the answer comes at
// once and whole, so no wait lasts. A GET sets one deadline at most
// (two when its answer is late, which the count tolerates), and none while the one set by an earlier GET is ahead by keepMargin:
// whatever the machine's load, a GET that ends within quickAnswer -
// keepMargin of the start of the last GET that changed a deadline
// changes none.
func TestDeadlineChangesPerGET(t *testing.T) {
	addr, accepts := target(t, answering(kibResp+strings.Repeat("x", 1024), 0))
	f, _, cc := counted(t, prodOpts(), addr)
	tgt := &upstream.Target{Name: "http://" + addr, Addr: addr}
	out := plainGET()
	w := &nullWriter{h: http.Header{}}
	const n = 400
	var total, checked int64
	var lastSet time.Time // start of the last GET that changed a deadline
	for i := 0; i < n || checked < 50 && i < 20*n; i++ {
		clear(w.h)
		w.n = 0
		sets, start := cc.sets.Load(), time.Now()
		if err := f.Forward(w, out, tgt, nil); err != nil || w.code != 200 || w.n != 1024 {
			t.Fatalf("Forward: %d, %d bytes, %v", w.code, w.n, err)
		}
		end, changed := time.Now(), cc.sets.Load()-sets
		total += changed
		if !lastSet.IsZero() && end.Sub(lastSet) <= quickAnswer-keepMargin {
			checked++
			if changed != 0 {
				t.Errorf("GET %d changed %d deadlines %v after the start of the last GET that did", i, changed, end.Sub(lastSet))
			}
		}
		if changed > 0 {
			lastSet = start
		}
		if i == n-1 {
			t.Logf("%d deadline changes in %d GETs (%d within the margin of the last change)", total, n, checked)
			if total > n {
				t.Errorf("%d deadline changes in %d quick GETs, want at most one per GET", total, n)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d GETs came soon enough after a deadline change to check they kept it", checked)
	}
	if a := accepts.Load(); a != 1 {
		t.Errorf("%d connections, want 1", a)
	}
}

// each is a serve function that reads every request (head and body) and
// lets answer write its answer.
func each(answer func(r *http.Request, c net.Conn)) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				return
			}
			answer(r, c)
		}
	}
}

// nearDeadlines makes pc's deadlines expire in d, as if an earlier GET
// had set them: the next GET keeps them (d is over keepMargin), and they
// expire before the ones it wants.
func nearDeadlines(pc *pconn, d time.Duration) {
	at := time.Now().Add(d)
	pc.c.SetDeadline(at)
	pc.dl.known, pc.dl.r, pc.dl.w = true, at, at
}

// TestEarlyDeadlineRearmed: a deadline in effect that expires before the
// one wanted (kept from an earlier GET, or the quick wait's) re-arms the
// wanted one and the wait goes on: for the answer, for the rest of a
// body. (For the target to take a head: TestHeadWriteRearmed.)
func TestEarlyDeadlineRearmed(t *testing.T) {
	const pause = 30 * time.Millisecond
	addr, accepts := target(t, func(c net.Conn) {
		br := bufio.NewReaderSize(c, 64<<10)
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			switch r.URL.Path {
			case "/late":
				time.Sleep(pause)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			case "/pausing-body":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok")
				time.Sleep(pause)
				io.WriteString(c, "ok")
			}
		}
	})
	o := prodOpts()
	o.ResponseHeaderTimeout, o.ReadTimeout, o.SendTimeout = 5*time.Second, 5*time.Second, 5*time.Second
	f, pc, _ := counted(t, o, addr)
	tgt := &upstream.Target{Name: "http://" + addr, Addr: addr}
	for _, tc := range []struct{ path, body string }{
		{path: "/late", body: "ok"},
		{path: "/pausing-body", body: "okok"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			out := plainGET()
			out.URL.Opaque = tc.path
			nearDeadlines(pc, 4*time.Millisecond)
			w := &nullWriter{h: http.Header{}}
			start := time.Now()
			err := f.Forward(w, out, tgt, nil)
			if err != nil || w.code != 200 || w.n != len(tc.body) {
				t.Fatalf("Forward: %d, %d bytes, %v; want 200 and %d bytes", w.code, w.n, err, len(tc.body))
			}
			if d := time.Since(start); d < pause {
				t.Errorf("answered in %v: the target did not pause", d)
			}
		})
	}
	if a := accepts.Load(); a != 1 {
		t.Errorf("%d connections, want 1: a re-armed deadline lost the connection", a)
	}
}

// TestHeadWriteRearmed: a request head the target takes only after the
// deadline in effect (kept from an earlier GET) expired is sent whole,
// with send_timeout or without one.
func TestHeadWriteRearmed(t *testing.T) {
	bigHead := strings.Repeat("v", 32<<20) // more than loopback's socket buffers hold
	for _, send := range []time.Duration{5 * time.Second, 0} {
		t.Run(fmt.Sprintf("send_timeout %v", send), func(t *testing.T) {
			addr, _ := target(t, func(c net.Conn) {
				br := bufio.NewReaderSize(c, 64<<10)
				for {
					time.Sleep(50 * time.Millisecond) // slow to take the head
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			o := prodOpts()
			o.SendTimeout = send
			f, pc, cc := counted(t, o, addr)
			tgt := &upstream.Target{Name: "http://" + addr, Addr: addr}
			out := plainGET()
			out.Header["X-Big"] = []string{bigHead}
			nearDeadlines(pc, 4*time.Millisecond)
			writeSets := cc.writeSets.Load()
			w := &nullWriter{h: http.Header{}}
			if err := f.Forward(w, out, tgt, nil); err != nil || w.code != 200 || w.n != 2 {
				t.Fatalf("Forward: %d, %d bytes, %v; want 200 \"ok\"", w.code, w.n, err)
			}
			if cc.writeSets.Load() == writeSets {
				t.Errorf("the write deadline was never re-armed: the head never waited past the kept deadline")
			}
		})
	}
}
