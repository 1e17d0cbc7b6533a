package h1client_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/proxy/h1client"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// TestMain fails the package if goroutines outlive the tests: every
// backend, front server, tunnel and body sender the tests start must be
// gone once their cleanups have run.
func TestMain(m *testing.M) {
	os.Exit(testkit.RunCheckingLeaks(m, 5*time.Second, nil))
}

// testOpts are generous settings: an exchange that goes wrong fails in
// seconds, never a test's worth of minutes.
func testOpts() proxy.TransportOptions {
	return proxy.TransportOptions{
		DialTimeout:           5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConns:          8,
		SendTimeout:           10 * time.Second,
		ReadTimeout:           10 * time.Second,
	}
}

func newForwarder(t testing.TB, o proxy.TransportOptions) *h1client.Forwarder {
	f := h1client.New(o, nil)
	t.Cleanup(f.Close)
	return f
}

// backend is a raw TCP server, for tests where the exact bytes matter:
// serve runs once per accepted connection, which is closed when it
// returns. It counts accepts, open connections (and their peak) and the
// connections the peer (the forwarder) closed.
type backend struct {
	ln      net.Listener
	addr    string
	accepts atomic.Int32
	open    atomic.Int32
	peak    atomic.Int32
	// peerClosed gets a connection's accept number when waitClose saw
	// the forwarder close it.
	peerClosed chan int

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// bconn is one accepted connection; n counts from 1.
type bconn struct {
	net.Conn
	br *bufio.Reader
	n  int
	b  *backend
}

func newBackend(t testing.TB, serve func(c *bconn)) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{ln: ln, addr: ln.Addr().String(), peerClosed: make(chan int, 1000)}
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(b.accepts.Add(1))
			if o := b.open.Add(1); o > b.peak.Load() {
				b.peak.Store(o) // only the accept loop raises it
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
			b.wg.Go(func() {
				defer b.open.Add(-1)
				defer c.Close()
				serve(&bconn{Conn: c, br: bufio.NewReader(c), n: n, b: b})
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

// closeConns closes every connection accepted so far, from the target's
// side.
func (b *backend) closeConns() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
}

func (b *backend) target() *upstream.Target { return targetAt(b.addr) }

func targetAt(addr string) *upstream.Target {
	return &upstream.Target{Name: "http://" + addr, Addr: addr}
}

// waitPeerClosed waits for waitClose to report connection n closed by
// the forwarder.
func (b *backend) waitPeerClosed(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-b.peerClosed:
			if got == n {
				return
			}
		case <-deadline:
			t.Fatalf("the forwarder did not close backend connection %d within 5s", n)
		}
	}
}

// request is a request as the backend received it.
type request struct {
	*http.Request        // the parsed head; its Body is not used
	head          string // the raw head, through the empty line
	line          string // the request line
	body          []byte
	trailer       http.Header
}

// readHead reads one request head, leaving the body unread.
func (c *bconn) readHead() (*request, error) {
	var head strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			return nil, err
		}
		if line == "\r\n" || line == "\n" {
			break
		}
		if head.Len() > 1<<20 {
			return nil, errors.New("request head over 1 MiB")
		}
	}
	raw := head.String()
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("bad request head %q: %w", raw, err)
	}
	line, _, _ := strings.Cut(raw, "\r\n")
	return &request{Request: req, head: raw, line: line}, nil
}

// readBody reads r's body (and a chunked body's trailer).
func (c *bconn) readBody(r *request) error {
	var err error
	switch {
	case len(r.TransferEncoding) > 0:
		if r.body, err = io.ReadAll(httputil.NewChunkedReader(c.br)); err != nil {
			return err
		}
		mh, err := textproto.NewReader(c.br).ReadMIMEHeader()
		if err != nil {
			return fmt.Errorf("reading the trailer: %w", err)
		}
		r.trailer = http.Header(mh)
	case r.ContentLength > 0:
		r.body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(c.br, r.body)
	}
	return err
}

// read reads one whole request.
func (c *bconn) read() (*request, error) {
	r, err := c.readHead()
	if err != nil {
		return nil, err
	}
	return r, c.readBody(r)
}

// write writes s exactly as given.
func (c *bconn) write(s string) error {
	_, err := io.WriteString(c.Conn, s)
	return err
}

// waitClose reads until the forwarder closes the connection and reports
// it on peerClosed; other bytes are ignored.
func (c *bconn) waitClose() {
	_, err := io.Copy(io.Discard, c.br)
	if err == nil { // EOF: the peer closed, not the test's cleanup
		c.b.peerClosed <- c.n
	}
}

// answer returns a serve function that answers every request with resp
// (without its body to a HEAD).
func answer(resp string) func(*bconn) {
	head, _, _ := strings.Cut(resp, "\r\n\r\n")
	head += "\r\n\r\n"
	return func(c *bconn) {
		for {
			r, err := c.read()
			if err != nil {
				if err == io.EOF {
					c.b.peerClosed <- c.n
				}
				return
			}
			out := resp
			if r.Method == http.MethodHead {
				out = head
			}
			if c.write(out) != nil {
				return
			}
		}
	}
}

const okResp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// newOut builds an outbound request as the proxy hands it over: target
// is the path as the client wrote it (an Opaque URL) and its query.
func newOut(method, target string, body io.Reader, length int64) *http.Request {
	path, query, hasQuery := strings.Cut(target, "?")
	u := &url.URL{Opaque: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	r := &http.Request{Method: method, URL: u, Host: "gatehouse.test", Header: http.Header{},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if body != nil {
		r.Body = io.NopCloser(body)
		r.ContentLength = length
	}
	return r
}

// recorder is a ResponseRecorder that tells whether the header was
// written: the contract says an error before PhaseResponse left it
// unwritten.
type recorder struct {
	*httptest.ResponseRecorder
	wrote bool
}

func newRecorder() *recorder { return &recorder{ResponseRecorder: httptest.NewRecorder()} }

func (r *recorder) WriteHeader(code int) {
	r.wrote = true
	r.ResponseRecorder.WriteHeader(code)
}

// forward sends out to b and returns what the client would have got.
func forward(f *h1client.Forwarder, b *backend, out *http.Request) (*recorder, *http.Response, string, error) {
	rec := newRecorder()
	err := f.Forward(rec, out, b.target(), nil)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return rec, res, string(body), err
}

// mustGet forwards a GET that must succeed with 200 "ok".
func mustGet(t testing.TB, f *h1client.Forwarder, b *backend, path string) {
	t.Helper()
	_, res, body, err := forward(f, b, newOut(http.MethodGet, path, nil, 0))
	if err != nil || res.StatusCode != 200 || body != "ok" {
		t.Fatalf("GET %s: %d %q, %v; want 200 \"ok\"", path, res.StatusCode, body, err)
	}
}

// proxyError returns err as *proxy.Error, failing the test otherwise.
func proxyError(t testing.TB, err error) *proxy.Error {
	t.Helper()
	var pe *proxy.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *proxy.Error", err, err)
	}
	return pe
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// front is an HTTP server in front of the forwarder, for tests that need
// a real ResponseWriter (flushing, full duplex, hijacking): its handler
// builds the outbound request as the proxy does and calls Forward.
type front struct {
	*httptest.Server
	errs chan error // Forward's result for every request
}

func newFront(t testing.TB, f *h1client.Forwarder, tgt *upstream.Target) *front {
	t.Helper()
	fr := &front{errs: make(chan error, 100)}
	fr.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		fr.errs <- f.Forward(w, outbound(r), tgt, nil)
	}))
	fr.Config.ErrorLog = log.New(io.Discard, "", 0)
	fr.Start()
	t.Cleanup(fr.Close)
	return fr
}

// outbound copies r the way the proxy does: its own URL (the escaped path
// as an Opaque), hop-by-hop headers removed unless it asks for an
// upgrade, no body when it has none.
func outbound(r *http.Request) *http.Request {
	out := r.Clone(r.Context())
	out.URL = &url.URL{Opaque: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery}
	out.RequestURI = ""
	if !proxy.HasToken(r.Header["Connection"], "upgrade") {
		for _, k := range []string{"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
			delete(out.Header, k)
		}
	}
	if r.ContentLength == 0 {
		out.Body, out.ContentLength = nil, 0
	}
	return out
}

// result waits for the front's Forward to return.
func (fr *front) result(t testing.TB) error {
	t.Helper()
	select {
	case err := <-fr.errs:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Forward did not return within 10s")
		return nil
	}
}

// canceled returns a request context canceled by the returned func.
func canceled(out *http.Request) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return out.WithContext(ctx), cancel
}
