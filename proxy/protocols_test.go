package proxy

import (
	"bufio"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/transport"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// target starts a backend running h: plain HTTP/1.1 ("http"), TLS with
// HTTP/2 ("https") or cleartext HTTP/2 only ("h2c"). It returns the target
// URL for the pool and the transport options to reach it.
func target(t *testing.T, scheme string, h http.HandlerFunc) (string, TransportOptions) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	o := TransportOptions{DialTimeout: time.Second, ResponseHeaderTimeout: 5 * time.Second, MaxIdleConns: 4, Scheme: scheme}
	url := ""
	switch scheme {
	case "https":
		srv.EnableHTTP2 = true
		srv.StartTLS()
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		tls, err := transport.LoadTLS(transport.TLS{CAFile: ca})
		if err != nil {
			t.Fatal(err)
		}
		o.TLS, url = tls, srv.URL
	case "h2c":
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
		url = strings.Replace(srv.URL, "http://", "h2c://", 1)
	default:
		srv.Start()
		url = srv.URL
	}
	t.Cleanup(srv.Close)
	return url, o
}

// gateway serves a Handler forwarding to url with options o. With h2c the
// listener also accepts cleartext HTTP/2, as Gatehouse's h2c listeners do.
// It returns the gateway's URL and the funnel's log.
func gateway(t *testing.T, url string, o TransportOptions, h2c bool) (string, *syncBuffer) {
	t.Helper()
	pool, err := upstream.Build("api", upstream.Spec{Targets: []upstream.TargetSpec{{URL: url}}}, nil, upstream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fwd := NewHTTPForwarder(o, nil)
	t.Cleanup(fwd.Close)
	logs := &syncBuffer{}
	h := &Handler{
		Pool:       pool,
		Forwarder:  fwd,
		Forwarding: &Forwarding{RequestIDHeader: "X-Request-Id"},
		Funnel:     &funnel.Funnel{Log: slog.New(slog.NewJSONHandler(logs, nil)), RequestIDHeader: "X-Request-Id"},
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if h2c {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client speaks HTTP/1.1, or cleartext HTTP/2 with prior knowledge.
func client(t *testing.T, h2c bool) *http.Client {
	tr := &http.Transport{Proxy: nil}
	if h2c {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// Trailers reach the client whether the target announced them or not, over
// every target protocol and to HTTP/1.1 and HTTP/2 clients; the target sees
// the protocol its scheme promises and TE: trailers.
func TestForwardProtocolsAndTrailers(t *testing.T) {
	for _, scheme := range []string{"http", "https", "h2c"} {
		for _, h2cIn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s target, h2c client %v", scheme, h2cIn), func(t *testing.T) {
				seen := make(chan string, 1)
				url, o := target(t, scheme, func(w http.ResponseWriter, r *http.Request) {
					seen <- r.Proto + " te=" + r.Header.Get("Te")
					w.Header().Set("Trailer", "Announced")
					if r.ProtoMajor == 2 {
						// HTTP/2 may send a length with trailers; HTTP/1.1 cannot.
						w.Header().Set("Content-Length", "4")
					}
					io.WriteString(w, "body")
					w.Header().Set("Announced", "yes")
					w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0")
				})
				gw, _ := gateway(t, url, o, true)
				req, _ := http.NewRequest("POST", gw+"/svc/Method", strings.NewReader("in"))
				req.Header.Set("Te", "trailers")
				res, err := client(t, h2cIn).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || string(body) != "body" {
					t.Fatalf("body %q, %v", body, err)
				}
				want := map[string]string{"http": "HTTP/1.1", "https": "HTTP/2.0", "h2c": "HTTP/2.0"}[scheme] + " te=trailers"
				if got := <-seen; got != want {
					t.Errorf("target saw %q, want %q", got, want)
				}
				if res.Trailer.Get("Announced") != "yes" || res.Trailer.Get("Grpc-Status") != "0" {
					t.Errorf("trailers %v, want Announced and Grpc-Status", res.Trailer)
				}
			})
		}
	}
}

// A request and its response flow at the same time over HTTP/1.1: each
// line the client sends comes back before it sends the next.
func TestFullDuplexHTTP1(t *testing.T) {
	url, o := target(t, "http", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			t.Error(err)
		}
		w.WriteHeader(200)
		rc.Flush()
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			fmt.Fprintf(w, "echo %s\n", sc.Text())
			rc.Flush()
		}
	})
	gw, _ := gateway(t, url, o, false)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", gw+"/duplex", pr)
	res, err := client(t, false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewReader(res.Body)
	for i := range 20 {
		fmt.Fprintf(pw, "line %d\n", i)
		got, err := lines.ReadString('\n')
		if want := fmt.Sprintf("echo line %d\n", i); got != want || err != nil {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	pw.Close()
	if rest, _ := io.ReadAll(lines); len(rest) != 0 {
		t.Errorf("unexpected tail %q", rest)
	}
}

// Failures Gatehouse answers itself reach gRPC clients as gRPC statuses.
func TestGRPCErrors(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	slow, slowOpts := target(t, "h2c", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	slowOpts.ResponseHeaderTimeout = 50 * time.Millisecond
	tests := []struct {
		name, url string
		o         TransportOptions
		status    string
	}{
		{"dead target", strings.Replace(dead.URL, "http://", "h2c://", 1), TransportOptions{DialTimeout: time.Second, Scheme: "h2c"}, "14"},
		{"timeout", slow, slowOpts, "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, logs := gateway(t, tt.url, tt.o, true)
			req, _ := http.NewRequest("POST", gw+"/grpc.testing.TestService/UnaryCall", strings.NewReader("\x00\x00\x00\x00\x00"))
			req.Header.Set("Content-Type", "application/grpc+proto")
			req.Header.Set("Te", "trailers")
			res, err := client(t, true).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/grpc+proto" ||
				res.Header.Get("Grpc-Status") != tt.status || !strings.HasPrefix(res.Header.Get("Grpc-Message"), "gatehouse: ") || len(body) != 0 {
				t.Errorf("got %d %v %q, want 200 trailers-only with grpc-status %s", res.StatusCode, res.Header, body, tt.status)
			}
			want := map[string]string{"14": `"status":502`, "4": `"status":504`}[tt.status]
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks the real status %s:\n%s", want, logs)
			}
		})
	}
}

// A WebSocket cannot go to an h2c target: refused with a cause, 502.
func TestUpgradeToH2CRefused(t *testing.T) {
	url, o := target(t, "h2c", func(w http.ResponseWriter, r *http.Request) { t.Error("request reached the target") })
	gw, logs := gateway(t, url, o, false)
	req, _ := http.NewRequest("GET", gw+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	res, err := client(t, false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 502 || !strings.Contains(logs.String(), "h2c targets") {
		t.Errorf("status %d, log:\n%s", res.StatusCode, logs)
	}
}

// A target whose certificate does not verify fails before anything is
// sent, so the attempt may be retried elsewhere; the error says why.
func TestTLSFailureIsConnectPhase(t *testing.T) {
	url, o := target(t, "https", func(http.ResponseWriter, *http.Request) { t.Error("request reached the target") })
	o.TLS = nil // system roots: the test certificate is unknown
	pool, _ := upstream.Build("api", upstream.Spec{Targets: []upstream.TargetSpec{{URL: url}}}, nil, upstream.Options{})
	fwd := NewHTTPForwarder(o, nil)
	defer fwd.Close()
	out := httptest.NewRequest("GET", "/", nil).WithContext(context.Background())
	out.RequestURI = ""
	err := fwd.Forward(httptest.NewRecorder(), out, pool.Targets[0], nil)
	var fe *Error
	if !errors.As(err, &fe) || fe.Phase != PhaseConnect || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("err %v, want a connect-phase certificate error", err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Error("a certificate error reads as a timeout")
	}
}

// An h2c target that speaks only HTTP/1.1 gives a 502 that says so.
func TestH2CTargetSpeakingHTTP1(t *testing.T) {
	url, o := target(t, "http", func(http.ResponseWriter, *http.Request) {})
	o.Scheme = "h2c"
	gw, logs := gateway(t, strings.Replace(url, "http://", "h2c://", 1), o, false)
	res, err := client(t, false).Get(gw + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// Which side notices first varies; either way the log says what is wrong.
	if l := logs.String(); res.StatusCode != 502 || !strings.Contains(l, "looked like an HTTP/1.1 header") && !strings.Contains(l, "is it an HTTP/2 server?") {
		t.Errorf("status %d, log:\n%s", res.StatusCode, logs)
	}
}

// max_idle_conns: 0 keeps no connection to an HTTP/1.1 target for reuse.
func TestMaxIdleConnsZero(t *testing.T) {
	for _, idle := range []int{0, 4} {
		peers := make(chan string, 2)
		url, o := target(t, "http", func(w http.ResponseWriter, r *http.Request) { peers <- r.RemoteAddr })
		o.MaxIdleConns = idle
		gw, _ := gateway(t, url, o, false)
		c := client(t, false)
		for range 2 {
			res, err := c.Get(gw + "/")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if first, second := <-peers, <-peers; (first == second) != (idle > 0) {
			t.Errorf("max idle %d: connections %s and %s", idle, first, second)
		}
	}
}

// A gRPC response the target breaks off mid-stream ends with a gRPC
// status in trailers, not a reset stream.
func TestGRPCBrokenStream(t *testing.T) {
	url, o := target(t, "h2c", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Write([]byte("\x00\x00\x00\x00\x01x"))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // the target resets the stream
	})
	gw, logs := gateway(t, url, o, true)
	req, _ := http.NewRequest("POST", gw+"/pkg.Svc/Watch", strings.NewReader("\x00\x00\x00\x00\x00"))
	req.Header.Set("Content-Type", "application/grpc")
	res, err := client(t, true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(body) != "\x00\x00\x00\x00\x01x" {
		t.Fatalf("body %q, %v", body, err)
	}
	if res.Trailer.Get("Grpc-Status") != "14" || !strings.Contains(res.Trailer.Get("Grpc-Message"), "broke off") {
		t.Errorf("trailers %v, want grpc-status 14", res.Trailer)
	}
	if !strings.Contains(logs.String(), `"status":502`) {
		t.Errorf("log lacks the failure:\n%s", logs)
	}

	// Not a gRPC request: the connection is cut as for any broken response.
	req, _ = http.NewRequest("GET", gw+"/plain", nil)
	res, err = client(t, true).Do(req)
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Error("a broken plain response ended cleanly")
	}
}

// A body left unread under full duplex must not make net/http read the
// connection twice at once (golang/go#68560): the next request on the
// connection is served, and nothing panics.
func TestFullDuplexUnreadBody(t *testing.T) {
	url, o := target(t, "http", func(w http.ResponseWriter, r *http.Request) {})
	pool, _ := upstream.Build("api", upstream.Spec{Targets: []upstream.TargetSpec{{URL: url}}}, nil, upstream.Options{})
	fwd := NewHTTPForwarder(o, nil)
	t.Cleanup(fwd.Close)
	h := &Handler{Pool: pool, Forwarder: fwd, Forwarding: &Forwarding{RequestIDHeader: "X-Request-Id"}, Funnel: &funnel.Funnel{}}
	var serverLog syncBuffer
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As the runtime limits bodies, behind a wrapper (the access log's).
		w = wrapped{w}
		r.Body = http.MaxBytesReader(w, r.Body, 1024)
		h.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(&serverLog, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	c := client(t, false)
	for i := range 5 {
		req, _ := http.NewRequest("POST", srv.URL+"/", io.NopCloser(strings.NewReader(strings.Repeat("x", 4096))))
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("request %d: status %d, want 413", i, res.StatusCode)
		}
	}
	if strings.Contains(serverLog.String(), "panic") {
		t.Errorf("server log:\n%s", serverLog.String())
	}
}

// wrapped is a ResponseWriter wrapper, as middleware adds.
type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }
