package h1client_test

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// TestStaleIdleConnNotUsed: a pooled connection the target closed while
// it sat idle is noticed before reuse. The second request is a POST with
// a body, which is never retried, so it succeeds only if the dead
// connection was passed over.
func TestStaleIdleConnNotUsed(t *testing.T) {
	b := newBackend(t, func(c *bconn) {
		if _, err := c.read(); err != nil {
			return
		}
		c.write(okResp) // keep-alive, then hang up at once
	})
	f := newForwarder(t, testOpts())
	mustGet(t, f, b, "/")
	time.Sleep(150 * time.Millisecond) // past the 50 ms before a reuse is checked
	_, res, body, err := forward(f, b, newOut("POST", "/p", strings.NewReader("data"), 4))
	if err != nil || res.StatusCode != 200 || body != "ok" {
		t.Fatalf("POST after the target closed the idle connection: %d %q, %v", res.StatusCode, body, err)
	}
	if a := b.accepts.Load(); a != 2 {
		t.Errorf("%d connections, want 2", a)
	}
}

// TestStaleIdleConnWithUnaskedBytes: a pooled connection on which the
// target sent something unasked is not reused either.
func TestStaleIdleConnWithUnaskedBytes(t *testing.T) {
	b := newBackend(t, func(c *bconn) {
		if _, err := c.read(); err != nil {
			return
		}
		c.write(okResp + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
		c.waitClose()
	})
	f := newForwarder(t, testOpts())
	mustGet(t, f, b, "/")
	time.Sleep(150 * time.Millisecond)
	_, res, body, err := forward(f, b, newOut("POST", "/p", strings.NewReader("data"), 4))
	if err != nil || body != "ok" {
		t.Fatalf("POST: %d %q, %v; want the fresh connection's ok", res.StatusCode, body, err)
	}
}

// closeOnSecond answers the first request on its first connection, then
// reads the next one and hangs up without a word: the race a reused
// keep-alive connection loses. Later connections do the same from their
// first request when always is set, or answer normally.
func closeOnSecond(always bool, seen *atomic.Int32) func(*bconn) {
	return func(c *bconn) {
		for i := 0; ; i++ {
			if _, err := c.read(); err != nil {
				return
			}
			seen.Add(1)
			if c.n == 1 && i == 0 {
				c.write(okResp)
				continue
			}
			if c.n == 1 || always {
				return
			}
			if c.write(okResp) != nil {
				return
			}
		}
	}
}

// TestStaleRetried: a GET that meets a reused connection the target
// closes without answering is sent once more on a fresh connection.
func TestStaleRetried(t *testing.T) {
	for _, method := range []string{"GET", "HEAD", "PUT", "DELETE", "OPTIONS"} {
		t.Run(method, func(t *testing.T) {
			var seen atomic.Int32
			b := newBackend(t, closeOnSecond(false, &seen))
			f := newForwarder(t, testOpts())
			mustGet(t, f, b, "/")
			_, res, _, err := forward(f, b, newOut(method, "/again", nil, 0))
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("%s on the closed connection: %v", method, err)
			}
			if a, s := b.accepts.Load(), seen.Load(); a != 2 || s != 3 {
				t.Errorf("%d connections and %d requests seen, want 2 and 3", a, s)
			}
		})
	}
}

// TestStaleNotRetried: what may not be repeated fails instead: a POST
// (not idempotent), a PUT whose body was sent, and a GET that fails on
// its fresh connection too (once more, never forever).
func TestStaleNotRetried(t *testing.T) {
	cases := []struct {
		name   string
		out    func() *http.Request
		always bool
		accept int32
	}{
		{"POST with a body", func() *http.Request { return newOut("POST", "/", strings.NewReader("data"), 4) }, false, 1},
		{"POST without a body", func() *http.Request { return newOut("POST", "/", nil, 0) }, false, 1},
		{"PUT with a body", func() *http.Request { return newOut("PUT", "/", strings.NewReader("data"), 4) }, false, 1},
		{"GET failing twice", func() *http.Request { return newOut("GET", "/", nil, 0) }, true, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen atomic.Int32
			b := newBackend(t, closeOnSecond(tc.always, &seen))
			f := newForwarder(t, testOpts())
			mustGet(t, f, b, "/")
			rec, _, _, err := forward(f, b, tc.out())
			if err == nil {
				t.Fatal("no error")
			}
			pe := proxyError(t, err)
			if pe.Phase != proxy.PhaseRequest || pe.ClientGone || rec.wrote {
				t.Errorf("phase %v ClientGone %v wrote %v, want request, false, false", pe.Phase, pe.ClientGone, rec.wrote)
			}
			if s := funnel.Status(err); s != http.StatusBadGateway {
				t.Errorf("status %d, want 502", s)
			}
			time.Sleep(50 * time.Millisecond) // a wrongful retry would have dialed by now
			if a := b.accepts.Load(); a != tc.accept {
				t.Errorf("%d connections, want %d", a, tc.accept)
			}
		})
	}
}

// TestDialRefused: a closed port fails in the connect phase, which any
// request may retry elsewhere.
func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f := newForwarder(t, testOpts())
	rec := newRecorder()
	err = f.Forward(rec, newOut("POST", "/", strings.NewReader("x"), 1), &upstream.Target{Name: "dead", Addr: addr}, nil)
	pe := proxyError(t, err)
	if pe.Phase != proxy.PhaseConnect || pe.ClientGone || pe.Target != "dead" {
		t.Errorf("error %v: phase %v ClientGone %v target %q", err, pe.Phase, pe.ClientGone, pe.Target)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("error %v does not wrap the dial error", err)
	}
	if s := funnel.Status(err); s != http.StatusBadGateway {
		t.Errorf("status %d, want 502", s)
	}
}

// TestResponseHeaderTimeout: a target that answers nothing within
// ResponseHeaderTimeout fails with a timeout (504) saying so.
func TestResponseHeaderTimeout(t *testing.T) {
	for _, partial := range []string{"", "HTTP/1.1 200 OK\r\nX-Slow: 1\r\n"} {
		t.Run(map[bool]string{true: "nothing", false: "part of the head"}[partial == ""], func(t *testing.T) {
			b := newBackend(t, func(c *bconn) {
				if _, err := c.read(); err != nil {
					return
				}
				c.write(partial)
				c.waitClose()
			})
			o := testOpts()
			o.ResponseHeaderTimeout = 200 * time.Millisecond
			f := newForwarder(t, o)
			start := time.Now()
			rec, _, _, err := forward(f, b, newOut("GET", "/", nil, 0))
			if !isTimeout(err) || !strings.Contains(err.Error(), "awaiting response headers") {
				t.Fatalf("error %v, want a timeout awaiting the headers", err)
			}
			if s := funnel.Status(err); s != http.StatusGatewayTimeout {
				t.Errorf("status %d, want 504", s)
			}
			if pe := proxyError(t, err); pe.Phase != proxy.PhaseRequest || pe.ClientGone || rec.wrote {
				t.Errorf("phase %v ClientGone %v wrote %v", pe.Phase, pe.ClientGone, rec.wrote)
			}
			if d := time.Since(start); d < 150*time.Millisecond {
				t.Errorf("timed out after %v", d)
			}
			b.waitPeerClosed(t, 1)
		})
	}
}

// TestHeadSendTimeout: a target that takes none of a request head fails
// the request after SendTimeout with a timeout (504), before any answer.
func TestHeadSendTimeout(t *testing.T) {
	stop := make(chan struct{})
	b := newBackend(t, func(c *bconn) { <-stop }) // reads nothing
	t.Cleanup(func() { close(stop) })
	o := testOpts()
	o.SendTimeout = 200 * time.Millisecond
	f := newForwarder(t, o)
	out := newOut("GET", "/", nil, 0)
	out.Header["X-Big"] = []string{strings.Repeat("v", 32<<20)} // more than loopback's socket buffers hold
	start := time.Now()
	rec, _, _, err := forward(f, b, out)
	if !isTimeout(err) {
		t.Fatalf("error %v, want a timeout", err)
	}
	if s := funnel.Status(err); s != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", s)
	}
	if pe := proxyError(t, err); pe.Phase != proxy.PhaseRequest || pe.ClientGone || rec.wrote {
		t.Errorf("phase %v ClientGone %v wrote %v", pe.Phase, pe.ClientGone, rec.wrote)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Errorf("timed out after %v, want about 200ms", d)
	}
}

// TestReadTimeout: a body that stalls past ReadTimeout fails with a
// timeout saying what stalled; the header had been sent.
func TestReadTimeout(t *testing.T) {
	for name, resp := range map[string]string{
		"content-length":  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel",
		"chunked":         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n",
		"close-delimited": "HTTP/1.1 200 OK\r\n\r\nhel",
	} {
		t.Run(name, func(t *testing.T) {
			b := newBackend(t, func(c *bconn) {
				if _, err := c.read(); err != nil {
					return
				}
				c.write(resp)
				c.waitClose()
			})
			o := testOpts()
			o.ReadTimeout = 200 * time.Millisecond
			f := newForwarder(t, o)
			rec, res, body, err := forward(f, b, newOut("GET", "/", nil, 0))
			if !isTimeout(err) || !strings.Contains(err.Error(), "no response bytes") {
				t.Fatalf("error %v, want a timeout about the stalled body", err)
			}
			if s := funnel.Status(err); s != http.StatusGatewayTimeout {
				t.Errorf("status %d, want 504", s)
			}
			if pe := proxyError(t, err); pe.Phase != proxy.PhaseResponse || pe.ClientGone || !rec.wrote {
				t.Errorf("phase %v ClientGone %v wrote %v, want response, false, true", pe.Phase, pe.ClientGone, rec.wrote)
			}
			if res.StatusCode != 200 || body != "hel" {
				t.Errorf("relayed %d %q before the stall", res.StatusCode, body)
			}
			b.waitPeerClosed(t, 1)
		})
	}
}

// endless is a request body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// clientGoneCase is the target's part in an exchange the client leaves:
// after delay it sends resp, then it stalls.
type clientGoneCase struct {
	name  string
	delay time.Duration
	resp  string
	out   func() *http.Request
	phase proxy.Phase
}

func getOut() *http.Request  { return newOut("GET", "/", nil, 0) }
func postOut() *http.Request { return newOut("POST", "/", strings.NewReader("data"), 4) }

// testClientGone checks the client going away ends the exchange at once:
// the error says ClientGone and the target's connection is closed.
func testClientGone(t *testing.T, tc clientGoneCase) {
	sent := make(chan struct{}, 1)
	b := newBackend(t, func(c *bconn) {
		if _, err := c.read(); err != nil {
			return
		}
		time.Sleep(tc.delay)
		c.write(tc.resp)
		sent <- struct{}{}
		c.waitClose()
	})
	o := testOpts()
	o.ResponseHeaderTimeout, o.ReadTimeout = 30*time.Second, 30*time.Second
	f := newForwarder(t, o)
	out, cancel := canceled(tc.out())
	done := make(chan error, 1)
	go func() { _, _, _, err := forward(f, b, out); done <- err }()
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not arrive")
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		pe := proxyError(t, err)
		if !pe.ClientGone || pe.Phase != tc.phase {
			t.Errorf("error %v: ClientGone %v phase %v, want true, %v", err, pe.ClientGone, pe.Phase, tc.phase)
		}
		if s := funnel.Status(err); s != 499 {
			t.Errorf("status %d, want 499", s)
		}
	case <-time.After(2 * time.Second):
		t.Error("Forward still waiting for the target 2s after the client went away")
		b.closeConns()
		<-done
		return
	}
	b.waitPeerClosed(t, 1)
}

// TestClientGone: the client going away ends the exchange, whatever it
// was waiting for.
func TestClientGone(t *testing.T) {
	for _, tc := range []clientGoneCase{
		{name: "waiting for the head of a GET", out: getOut, phase: proxy.PhaseRequest},
		{name: "waiting for the head of a POST", out: postOut, phase: proxy.PhaseRequest},
		{name: "during a slow head", delay: 30 * time.Millisecond, resp: "HTTP/1.1 200 OK\r\nX-A: 1\r\n",
			out: getOut, phase: proxy.PhaseRequest},
		{name: "during a streamed body", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n",
			out: getOut, phase: proxy.PhaseResponse},
		{name: "during an event stream", resp: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 1000\r\n\r\ndata: 1\n\n",
			out: getOut, phase: proxy.PhaseResponse},
		{name: "during a close-delimited body", resp: "HTTP/1.1 200 OK\r\n\r\nfirst", out: getOut, phase: proxy.PhaseResponse},
		{name: "during the body of a POST's answer", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst",
			out: postOut, phase: proxy.PhaseResponse},
	} {
		t.Run(tc.name, func(t *testing.T) { testClientGone(t, tc) })
	}
}

// TestClientGoneBeforeForward: a request whose client has already gone
// fails without a connection being kept for it.
func TestClientGoneBeforeForward(t *testing.T) {
	b := newBackend(t, answer(okResp))
	f := newForwarder(t, testOpts())
	mustGet(t, f, b, "/")
	out, cancel := canceled(newOut("POST", "/", strings.NewReader("data"), 4))
	cancel()
	_, _, _, err := forward(f, b, out)
	if err != nil {
		if pe := proxyError(t, err); !pe.ClientGone {
			t.Errorf("error %v without ClientGone", err)
		}
	}
	mustGet(t, f, b, "/")
}

// TestQuickAnswerAfterClientGone: a target that answers at once while the
// client is already gone: the answer is relayed or not, but the
// connection is not pooled with a pending abort on it.
func TestQuickAnswerAfterClientGone(t *testing.T) {
	b := newBackend(t, answer(okResp))
	f := newForwarder(t, testOpts())
	for range 20 {
		out, cancel := canceled(newOut("GET", "/", nil, 0))
		cancel()
		forward(f, b, out)
		mustGet(t, f, b, "/") // a connection with a deadline in the past would fail this
	}
}
