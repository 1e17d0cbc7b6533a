package transport

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// protoServer counts requests and records the protocol of the last one.
type protoServer struct {
	*httptest.Server
	hits  atomic.Int32
	proto atomic.Value
}

func newProtoServer(t *testing.T, tls, h2c bool) *protoServer {
	s := &protoServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.proto.Store(r.Proto)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	if h2c {
		s.Config.Protocols = new(http.Protocols)
		s.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	if tls {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// syncBuffer is a log sink safe for the checkers' goroutines.
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

// eventually fails the test unless cond becomes true within 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
	}
}

// Active probes through a ProbeClient use the pool's TLS settings and
// protocol, h2c:// probe URLs included.
func TestProbeClientProtocols(t *testing.T) {
	tlsSrv := newProtoServer(t, true, false)
	h2cSrv := newProtoServer(t, false, true)
	httpSrv := newProtoServer(t, false, false)
	httpsURL := tlsSrv.URL
	h2cURL := strings.Replace(h2cSrv.URL, "http://", "h2c://", 1)
	tests := []struct {
		name  string
		srv   *protoServer
		url   string
		tls   TLS
		up    bool
		proto string
	}{
		{"https with the CA", tlsSrv, httpsURL, TLS{CAFile: caFile(t, tlsSrv.Server)}, true, "HTTP/2.0"},
		{"https with server_name", tlsSrv, httpsURL, TLS{CAFile: caFile(t, tlsSrv.Server), ServerName: "example.com"}, true, "HTTP/2.0"},
		{"https without the CA", tlsSrv, httpsURL, TLS{}, false, ""},
		{"https with a wrong server_name", tlsSrv, httpsURL, TLS{CAFile: caFile(t, tlsSrv.Server), ServerName: "other.example"}, false, ""},
		{"https unverified", tlsSrv, httpsURL, TLS{InsecureSkipVerify: true}, true, "HTTP/2.0"},
		{"h2c", h2cSrv, h2cURL, TLS{}, true, "HTTP/2.0"},
		{"http", httpSrv, httpSrv.URL, TLS{}, true, "HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheme, _, _ := strings.Cut(tt.url, "://")
			loaded, err := LoadTLS(tt.tls)
			if err != nil {
				t.Fatal(err)
			}
			tc, err := loaded.ClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			logs := &syncBuffer{}
			spec := upstream.Spec{
				Targets: []upstream.TargetSpec{{URL: tt.url}},
				Active:  &upstream.Active{Path: "/health", Interval: 5 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 1, UnhealthyThreshold: 1},
			}
			client := ProbeClient(scheme, tc, time.Second)
			p, err := upstream.Build("web", spec, nil, upstream.Options{Client: client, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			p.Start(ctx)
			t.Cleanup(cancel)
			if tt.up {
				before := tt.srv.hits.Load()
				eventually(t, "probes", func() bool { return tt.srv.hits.Load() >= before+3 })
				if !p.Targets[0].Available() || tt.srv.proto.Load() != tt.proto {
					t.Errorf("available %v proto %v, want up over %s:\n%s", p.Targets[0].Available(), tt.srv.proto.Load(), tt.proto, logs)
				}
				return
			}
			// The verdict may be visible a moment before its log line.
			eventually(t, "target down with the certificate error logged", func() bool {
				return !p.Targets[0].Available() && strings.Contains(logs.String(), "tls: failed to verify certificate")
			})
		})
	}
}

// An h2c:// request through a ProbeClient goes out as http:// without
// touching the caller's request.
func TestProbeClientRequestScheme(t *testing.T) {
	srv := newProtoServer(t, false, true)
	c := ProbeClient(upstream.SchemeH2C, nil, time.Second)
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", strings.Replace(srv.URL, "http://", "h2c://", 1)+"/x", nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || srv.proto.Load() != "HTTP/2.0" || req.URL.Scheme != "h2c" {
		t.Errorf("status %d proto %v, request scheme now %q", res.StatusCode, srv.proto.Load(), req.URL.Scheme)
	}
}

func TestRequestScheme(t *testing.T) {
	for in, want := range map[string]string{"http": "http", "https": "https", "h2c": "http", "": ""} {
		if got := RequestScheme(in); got != want {
			t.Errorf("RequestScheme(%q) = %q, want %q", in, got, want)
		}
	}
}
