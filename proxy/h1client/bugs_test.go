package h1client_test

// Tests named TestRegression... show bugs found while writing this package's
// tests. They fail until the bug is fixed; each says where it is.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/proxy/h1client"
)

// TestRegressionPostConnectionNotReused: a request with a body loses its
// keep-alive connection now and then although the target read the body
// and answered it in full (a few in a hundred on loopback). finishBody
// (exchange.go, the select with a default case) gives the body's sender
// no time to report: the target can read the last byte and answer before
// the sender goroutine, whose last write has returned, sends on bodyDone.
func TestRegressionPostConnectionNotReused(t *testing.T) {
	b := newBackend(t, answer(okResp))
	f := newForwarder(t, testOpts())
	for i := range 500 {
		_, res, _, err := forward(f, b, newOut("POST", "/p", strings.NewReader("body"), 4))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("POST %d: %v", i, err)
		}
	}
	if a := b.accepts.Load(); a != 1 {
		t.Errorf("%d connections for 500 sequential POSTs, want 1", a)
	}
}

// TestRegressionSendTimeoutDoesNotEndExchange: when the target stops reading the
// request body, SendTimeout fails the body's sender (exchange.go,
// deadlineWriter), but nothing ends the wait for the response head
// (readResponseHead): the exchange lasts until ResponseHeaderTimeout
// (60s by default; forever with none), and then reports a header timeout
// instead of the stalled upload. (HTTPForwarder's watchdog cancels the
// whole round trip.)
func TestRegressionSendTimeoutDoesNotEndExchange(t *testing.T) {
	stop := make(chan struct{})
	b := newBackend(t, func(c *bconn) {
		if _, err := c.readHead(); err != nil {
			return
		}
		<-stop // reads no body and answers nothing
	})
	t.Cleanup(func() { close(stop) })
	o := testOpts()
	o.SendTimeout = 200 * time.Millisecond
	o.ResponseHeaderTimeout = 30 * time.Second
	f := newForwarder(t, o)
	done := make(chan error, 1)
	go func() {
		_, _, _, err := forward(f, b, newOut("POST", "/", endless{}, -1))
		done <- err
	}()
	select {
	case err := <-done:
		if !isTimeout(err) || !strings.Contains(err.Error(), "body") {
			t.Errorf("error %v, want a timeout sending the body", err)
		}
		if pe := proxyError(t, err); pe.Phase != proxy.PhaseRequest || pe.ClientGone {
			t.Errorf("phase %v ClientGone %v", pe.Phase, pe.ClientGone)
		}
	case <-time.After(3 * time.Second):
		t.Error("the exchange went on 3s after the target stopped reading the body (SendTimeout 200ms)")
		b.closeConns()
		t.Logf("once the target hung up: %v", <-done)
	}
}

// slowBody yields n chunks, one every pause.
type slowBody struct {
	n     int
	pause time.Duration
}

func (s *slowBody) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	s.n--
	return copy(p, "chunk"), nil
}

// TestRegressionResponseHeaderTimeoutCountsUpload: ResponseHeaderTimeout is
// documented (config.go, and net/http's meaning) as the wait for the head
// after the request was sent, but readResponseHead arms it when the
// upload starts: an upload that lasts longer than the timeout fails with
// "timeout awaiting response headers" while the target is still reading
// it. With the default of 60s, any upload over a minute fails (504).
func TestRegressionResponseHeaderTimeoutCountsUpload(t *testing.T) {
	b := newBackend(t, answer(okResp))
	o := testOpts()
	o.ResponseHeaderTimeout = 500 * time.Millisecond
	f := newForwarder(t, o)
	body := &slowBody{n: 6, pause: 250 * time.Millisecond} // 1.5s of upload
	_, res, got, err := forward(f, b, newOut("POST", "/up", body, -1))
	if err != nil || res.StatusCode != 200 || got != "ok" {
		t.Errorf("a 1.5s upload answered right after its end: %d %q, %v; want 200", res.StatusCode, got, err)
	}
}

// TestRegressionIdleConnOlderThanReadTimeoutNotReused: a pooled connection idle
// for longer than the last read deadline set on it (ReadTimeout after a
// body, ResponseHeaderTimeout after a bodiless answer) is never reused:
// the liveness peek (pool.go, alive) goes through RawConn.Read, which
// fails at once on an expired read deadline, so the healthy connection is
// taken for dead and closed. With the defaults (60s read, 90s idle) every
// connection idle 60 to 90s is wasted; with a short read_timeout almost
// every one is.
func TestRegressionIdleConnOlderThanReadTimeoutNotReused(t *testing.T) {
	for _, tc := range []struct {
		name, resp string
		o          func(*proxy.TransportOptions)
	}{
		{"after a body, past ReadTimeout", okResp, func(o *proxy.TransportOptions) { o.ReadTimeout = 200 * time.Millisecond }},
		{"after a 204, past ResponseHeaderTimeout", "HTTP/1.1 204 No Content\r\n\r\n",
			func(o *proxy.TransportOptions) { o.ResponseHeaderTimeout = 200 * time.Millisecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t, answer(tc.resp))
			o := testOpts()
			tc.o(&o)
			f := newForwarder(t, o)
			for range 2 {
				if _, _, _, err := forward(f, b, newOut("GET", "/", nil, 0)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(500 * time.Millisecond) // idle well within IdleConnTimeout (30s)
			}
			if a := b.accepts.Load(); a != 1 {
				t.Errorf("%d connections, want 1: the idle connection was healthy", a)
			}
		})
	}
}

// signalWriter is a ResponseWriter that reports its first body write.
type signalWriter struct {
	h     http.Header
	code  atomic.Int32
	wrote chan struct{}
	once  atomic.Bool
}

func (w *signalWriter) Header() http.Header  { return w.h }
func (w *signalWriter) WriteHeader(code int) { w.code.Store(int32(code)) }
func (w *signalWriter) Write(p []byte) (int, error) {
	if w.once.CompareAndSwap(false, true) {
		close(w.wrote)
	}
	return len(p), nil
}

// TestRegressionEarlyAnswerWaitsForClientBody: after relaying an answer the
// target gave before reading the whole body (a 413, a 401), Forward waits
// for the body's sender (exchange.go, finishBody: SetDeadline and then
// <-bodyDone). The deadline stops only a sender blocked writing to the
// target, not one waiting for the client's next bytes, so Forward lasts
// as long as the client's upload; a real server has meanwhile sent the
// client nothing (the answer sits in its buffer until the handler
// returns). And the deadline does not even stop the sender: its next
// write sets a fresh one (deadlineWriter, which setWriteDeadline does not
// guard, since finishBody does not go through abort), so more of the body
// reaches the target after its answer.
func TestRegressionEarlyAnswerWaitsForClientBody(t *testing.T) {
	forwarded := make(chan struct{})
	after := make(chan []byte, 1)
	b := newBackend(t, func(c *bconn) {
		if _, err := c.readHead(); err != nil {
			return
		}
		c.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo big!")
		<-forwarded
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		data, _ := io.ReadAll(c.br) // what reached the target, up to the close
		after <- data
	})
	f := newForwarder(t, testOpts())
	pr, pw := io.Pipe()
	go io.WriteString(pw, "first")
	w := &signalWriter{h: http.Header{}, wrote: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- f.Forward(w, newOut("POST", "/up", pr, -1), b.target(), nil) }()
	select {
	case <-w.wrote:
	case <-time.After(5 * time.Second):
		t.Fatal("the 413 was not relayed")
	}
	time.Sleep(100 * time.Millisecond)
	go io.WriteString(pw, "second") // the client sends on, as uploading clients do
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Forward: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("Forward still waiting for the client's upload 2s after relaying the target's 413")
		pw.Close()
		<-done
	}
	pw.Close()
	close(forwarded)
	if data := <-after; bytes.Contains(data, []byte("second")) {
		t.Errorf("body bytes sent after the target's answer stopped the upload: %q", data)
	}
	if w.code.Load() != 413 {
		t.Errorf("status %d, want 413", w.code.Load())
	}
}

// TestRegressionClientGoneNotNoticed: the watch for the client going away
// (exchange.go, readResponseHead and relay) starts only when the first
// byte of the head takes over 5 ms, or for a request body or a streamed
// answer. So it never starts when the target sends a 103 Early Hints (or
// the start of its head) at once and then takes its time over the final
// answer, nor for a Content-Length body that stalls: a client that left
// holds the target's connection until ResponseHeaderTimeout or
// ReadTimeout (60s each by default).
func TestRegressionClientGoneNotNoticed(t *testing.T) {
	for _, tc := range []clientGoneCase{
		{name: "after a quick 103, waiting for the final head", resp: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
			out: getOut, phase: proxy.PhaseRequest},
		{name: "head begun at once, then stalled", resp: "HTTP/1.1 200 OK\r\nX-A: 1\r\n", out: getOut, phase: proxy.PhaseRequest},
		{name: "during a stalled content-length body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst",
			out: getOut, phase: proxy.PhaseResponse},
	} {
		t.Run(tc.name, func(t *testing.T) { testClientGone(t, tc) })
	}
}

// TestRegressionListenerAltSvcAppended: the listener's Alt-Svc wins over the
// target's (CopyResponseHeader's rule), but when the target sends Alt-Svc
// twice, copyFields (exchange.go) skips only the first and appends the
// second to the listener's.
func TestRegressionListenerAltSvcAppended(t *testing.T) {
	b := newBackend(t, answer("HTTP/1.1 200 OK\r\nAlt-Svc: h2=\":1\"\r\nAlt-Svc: h2=\":2\"\r\nContent-Length: 2\r\n\r\nok"))
	f := newForwarder(t, testOpts())
	rec := newRecorder()
	rec.Header()["Alt-Svc"] = []string{`h3=":443"`}
	if err := f.Forward(rec, newOut("GET", "/", nil, 0), b.target(), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.Result().Header["Alt-Svc"], []string{`h3=":443"`}; !reflect.DeepEqual(got, want) {
		t.Errorf("Alt-Svc %q, want only the listener's %q", got, want)
	}
}

// TestRegressionQuadraticHead: relaying a response head costs time quadratic in
// its fields: copyFields calls seenBefore (a scan of all earlier fields)
// for each field, and builds the Connection names by concatenation and
// scans them per field; frame concatenates Trailer values. A target's
// head within the 1 MiB limit costs seconds of CPU (111,000 distinct
// names: 24s here) where net/http takes milliseconds.
func TestRegressionQuadraticHead(t *testing.T) {
	limit := 500 * time.Millisecond
	if raceEnabled {
		limit *= 10 // the race detector slows the parser; a quadratic cost would still show
	}
	for _, tc := range []struct {
		name string
		line func(i int) string
		size int
	}{
		{"distinct names", func(i int) string { return fmt.Sprintf("X%d: v\r\n", i) }, 300 << 10},
		{"Connection fields", func(int) string { return "Connection: x\r\n" }, 600 << 10},
		{"Trailer fields", func(int) string { return "Trailer: x\r\n" }, 500 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sb strings.Builder
			sb.WriteString("HTTP/1.1 200 OK\r\n")
			for i := 0; sb.Len() < tc.size; i++ {
				sb.WriteString(tc.line(i))
			}
			sb.WriteString("Content-Length: 2\r\n\r\nok")
			b := newBackend(t, answer(sb.String()))
			f := newForwarder(t, testOpts())
			start := time.Now()
			// More fields than the parser allows are refused, fast.
			if _, _, _, err := forward(f, b, newOut("GET", "/", nil, 0)); err != nil && !strings.Contains(err.Error(), "header fields") {
				t.Fatal(err)
			}
			if d := time.Since(start); d > limit {
				t.Errorf("relaying a %d KiB head took %v", tc.size>>10, d)
			}
		})
	}
}

// TestRegressionUnknownTransferCodingRelayedAsIdentity: a body with a transfer
// coding other than chunked ("gzip, chunked") is de-chunked and relayed
// still gzipped, with Transfer-Encoding (hop-by-hop) dropped and nothing
// else saying so: the client gets bytes it cannot read. head.go's frame
// looks only at the last coding. net/http's Transport refuses such a
// response ("unsupported transfer encoding"); so should this, or relay
// the coding.
func TestRegressionUnknownTransferCodingRelayedAsIdentity(t *testing.T) {
	b := newBackend(t, answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\n\x1f\x8b\x08\x00\x00\r\n0\r\n\r\n"))
	f := newForwarder(t, testOpts())
	_, res, body, err := forward(f, b, newOut("GET", "/", nil, 0))
	if err == nil && res.Header.Get("Transfer-Encoding") == "" && res.Header.Get("Content-Encoding") == "" {
		t.Errorf("gzip-coded body relayed as plain bytes (%q) with no header saying so; want an error (502)", body)
	}
}

// TestRegressionHTTP10WithTransferEncodingKeptAlive: RFC 9112 section 6.1: an
// HTTP/1.0 message with Transfer-Encoding is faultily framed. It once
// kept its connection for the next request; it is now refused (502) and
// its connection never reused.
func TestRegressionHTTP10WithTransferEncodingKeptAlive(t *testing.T) {
	b := newBackend(t, func(c *bconn) {
		if c.n == 1 {
			if _, err := c.read(); err != nil {
				return
			}
			c.write("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
		}
		answer(okResp)(c)
	})
	f := newForwarder(t, testOpts())
	if _, _, _, err := forward(f, b, newOut("GET", "/", nil, 0)); err == nil || !strings.Contains(err.Error(), "HTTP/1.0") {
		t.Fatalf("error %v, want the faulty framing refused", err)
	}
	mustGet(t, f, b, "/")
	if a := b.accepts.Load(); a != 2 {
		t.Errorf("%d connections, want 2: the faultily framed message's connection must be closed", a)
	}
}

// TestRegressionBodilessTEAndCLKeptAlive: a bodiless answer (HEAD, 204)
// with both Transfer-Encoding and Content-Length once kept its
// connection; like any message with both it is now refused and its
// connection closed.
func TestRegressionBodilessTEAndCLKeptAlive(t *testing.T) {
	for _, tc := range []struct{ method, resp string }{
		{"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"GET", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			b := newBackend(t, func(c *bconn) {
				if c.n == 1 {
					if _, err := c.read(); err != nil {
						return
					}
					c.write(tc.resp)
				}
				answer(okResp)(c)
			})
			f := newForwarder(t, testOpts())
			if _, _, _, err := forward(f, b, newOut(tc.method, "/", nil, 0)); err == nil {
				t.Fatal("both lengths accepted")
			}
			mustGet(t, f, b, "/")
			if a := b.accepts.Load(); a != 2 {
				t.Errorf("%d connections, want 2", a)
			}
		})
	}
}

// TestRegressionBadOutboundValueDialsAgain: a request refused for a value with
// a line break, sent on a pooled connection, is taken for a stale
// connection (roundTrip sets stale on any writeHead error, the refusal
// included) and retried on a freshly dialed one, to be refused again: a
// good pooled connection closed and a dial wasted per such request. The
// values are checkable before any connection is taken.
func TestRegressionBadOutboundValueDialsAgain(t *testing.T) {
	b := newBackend(t, answer(okResp))
	f := newForwarder(t, testOpts())
	mustGet(t, f, b, "/")
	out := newOut("GET", "/", nil, 0)
	out.Header["X-Bad"] = []string{"a\r\nb"}
	if _, _, _, err := forward(f, b, out); err == nil {
		t.Fatal("no error")
	}
	time.Sleep(100 * time.Millisecond)
	if a := b.accepts.Load(); a != 1 {
		t.Errorf("%d connections after refusing a bad value, want 1 (no dial for it)", a)
	}
}

// TestRegressionHeaderNameNotValidated: header names are written as they are
// (writeHead, writeTrailer), so a name with a line break injects fields
// into the request; only values are checked. Config validation and the
// servers' parsers keep such names out today, so this is defence in
// depth; net/http's Transport refuses invalid names.
func TestRegressionHeaderNameNotValidated(t *testing.T) {
	heads := make(chan string, 1)
	b := newBackend(t, func(c *bconn) {
		var head strings.Builder
		for {
			line, err := c.br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		heads <- head.String()
		c.write(okResp)
		c.waitClose()
	})
	f := newForwarder(t, testOpts())
	out := newOut("GET", "/", nil, 0)
	out.Header["X-A\r\nX-Injected"] = []string{"1"}
	_, _, _, err := forward(f, b, out)
	select {
	case head := <-heads:
		if strings.Contains(head, "\r\nX-Injected: 1\r\n") {
			t.Errorf("a name with CRLF injected a field (error %v): %q", err, head)
		}
	default:
		if err == nil {
			t.Error("no error, yet nothing sent")
		}
	}
}

// TestRegressionNULInFoldedValue: parseHead (head.go) refuses a NUL in a field
// value, but not on an obs-fold continuation line, whose text is appended
// unchecked: the NUL reaches the client in the header (net/http's
// HTTP/1.1 server writes it as it is). Found by FuzzParseHead.
func TestRegressionNULInFoldedValue(t *testing.T) {
	b := newBackend(t, answer("HTTP/1.1 200 OK\r\nX-A: a\r\n \x00b\r\nContent-Length: 2\r\n\r\nok"))
	f := newForwarder(t, testOpts())
	_, res, _, err := forward(f, b, newOut("GET", "/", nil, 0))
	if err == nil {
		t.Errorf("a NUL in a folded value relayed: X-A %q; want the error an unfolded one gets", res.Header.Get("X-A"))
	}
}

// TestRegressionNoReadTimeoutBoundedByHeaderTimeout: read_timeout 0 means
// no limit on the pauses of a response body (config.go), but body.go set
// no read deadline then, and the one in effect was the response head's:
// a body still arriving ResponseHeaderTimeout after the head was sent
// failed with "the target sent no response bytes for 0s" (504 before
// the header, a cut body after it).
//
// LateSender: a request body's sender that finished after the reader had
// taken the response head (scheduled late, or the target answered before
// the body was all in) set the head's deadline anyway, over the body's,
// with the same failure. It flaked in 1 run of 10 of the POST case; a
// sender made 150 ms late makes it certain.
func TestRegressionNoReadTimeoutBoundedByHeaderTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  func() *http.Request
		late bool
	}{{"GET", getOut, false}, {"POST", postOut, false}, {"POST/LateSender", postOut, true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.late {
				t.Cleanup(h1client.SetSenderDone(func() { time.Sleep(150 * time.Millisecond) }))
			}
			b := newBackend(t, func(c *bconn) {
				if _, err := c.read(); err != nil {
					return
				}
				c.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
				time.Sleep(400 * time.Millisecond)
				c.write("cd")
				c.waitClose()
			})
			o := testOpts()
			o.ResponseHeaderTimeout, o.ReadTimeout = 100*time.Millisecond, 0
			f := newForwarder(t, o)
			_, res, body, err := forward(f, b, tc.out())
			if err != nil || res.StatusCode != 200 || body != "abcd" {
				t.Errorf("a body pausing 400ms with no read timeout: %d %q, %v; want 200 \"abcd\"", res.StatusCode, body, err)
			}
		})
	}
}
