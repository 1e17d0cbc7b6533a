package testkit

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ProbeUserAgent is the User-Agent of Gatehouse's active health probes.
// Backends answer probes themselves (see SetHealthy) and do not record
// them as traffic.
const ProbeUserAgent = "gatehouse-health-check"

// Request is what a backend received: the request line and header as they
// arrived, and the body and trailer when the handler read them (Echo does;
// see RecordBody).
type Request struct {
	Method     string
	RequestURI string
	Proto      string
	Host       string
	Header     http.Header
	RemoteAddr string
	Body       []byte
	Trailer    http.Header
}

// Backend is a real HTTP/1.1 server on 127.0.0.1 that records every request
// it receives and then runs its handler. It can be killed (Kill) and
// brought back on the same address (Restart). Safe for concurrent use.
type Backend struct {
	// Name identifies the backend: Echo returns it in the body and in the
	// X-Backend header.
	Name string
	// URL is "http://" + Addr.
	URL string
	// Addr is the host:port it listens on; it stays the same across
	// Kill and Restart.
	Addr string

	t       testing.TB
	handler http.Handler
	healthy atomic.Bool
	probes  atomic.Int64

	mu   sync.Mutex
	srv  *http.Server
	reqs []*Request
}

type recordKey struct{}

// NewBackend starts a backend named name running h after recording each
// request; nil h means Echo. It is killed when the test ends.
func NewBackend(t testing.TB, name string, h http.Handler) *Backend {
	t.Helper()
	b := &Backend{Name: name, t: t, handler: h}
	if b.handler == nil {
		b.handler = Echo()
	}
	b.healthy.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("backend %s: listen: %v", name, err)
	}
	b.Addr = ln.Addr().String()
	b.URL = "http://" + b.Addr
	b.serve(ln)
	t.Cleanup(b.Kill)
	return b
}

func (b *Backend) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(b.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go srv.Serve(ln)
}

func (b *Backend) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("User-Agent") == ProbeUserAgent {
		b.probes.Add(1)
		if b.healthy.Load() {
			io.WriteString(w, "ok\n")
		} else {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		}
		return
	}
	rec := &Request{
		Method:     r.Method,
		RequestURI: r.RequestURI,
		Proto:      r.Proto,
		Host:       r.Host,
		Header:     r.Header.Clone(),
		RemoteAddr: r.RemoteAddr,
	}
	b.mu.Lock()
	b.reqs = append(b.reqs, rec)
	b.mu.Unlock()
	b.handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), recordKey{}, recordRef{b, rec})))
}

type recordRef struct {
	b   *Backend
	rec *Request
}

// RecordBody stores the body and trailer a handler read into the record of
// request r, so tests can inspect them with Requests. It does nothing for a
// request that did not come through a Backend.
func RecordBody(r *http.Request, body []byte, trailer http.Header) {
	ref, ok := r.Context().Value(recordKey{}).(recordRef)
	if !ok {
		return
	}
	ref.b.mu.Lock()
	defer ref.b.mu.Unlock()
	ref.rec.Body = body
	ref.rec.Trailer = trailer.Clone()
}

// Hits is the number of requests received (health probes excluded).
func (b *Backend) Hits() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

// Probes is the number of health probes received.
func (b *Backend) Probes() int { return int(b.probes.Load()) }

// Requests returns copies of the requests received so far, in order.
func (b *Backend) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Request, len(b.reqs))
	for i, r := range b.reqs {
		out[i] = *r
		out[i].Header = r.Header.Clone()
		out[i].Trailer = r.Trailer.Clone()
		out[i].Body = append([]byte(nil), r.Body...)
	}
	return out
}

// Last returns the last request received, failing the test if none was.
func (b *Backend) Last() Request {
	b.t.Helper()
	reqs := b.Requests()
	if len(reqs) == 0 {
		b.t.Fatalf("backend %s received no request", b.Name)
	}
	return reqs[len(reqs)-1]
}

// Reset forgets the requests received so far.
func (b *Backend) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs = nil
}

// SetHealthy decides how the backend answers health probes: 200 or 503.
func (b *Backend) SetHealthy(ok bool) { b.healthy.Store(ok) }

// Kill closes the listener and every open (not hijacked) connection at
// once, without waiting for requests in flight. Connecting to Addr is then
// refused. Killing a dead backend does nothing.
func (b *Backend) Kill() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Restart listens on Addr again after Kill.
func (b *Backend) Restart() {
	b.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port is normally free at once; be patient anyway
		if ln, err = net.Listen("tcp", b.Addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		b.t.Fatalf("backend %s: restart on %s: %v", b.Name, b.Addr, err)
	}
	b.serve(ln)
}

// DeadURL returns the URL of a loopback address where nothing listens, so
// connecting is refused.
func DeadURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// Echo answers 200 with "X-Backend: <name>" and the backend's name as the
// body, after reading and recording the request body and trailer.
func Echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil && !errors.Is(err, io.EOF) {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		RecordBody(r, body, r.Trailer)
		name := "backend"
		if ref, ok := r.Context().Value(recordKey{}).(recordRef); ok {
			name = ref.b.Name
		}
		w.Header().Set("X-Backend", name)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, name)
	})
}
