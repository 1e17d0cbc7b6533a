package upstream

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
)

func TestParseTargetSchemes(t *testing.T) {
	tests := []struct {
		url, addr, err string
	}{
		{"http://a", "a:80", ""},
		{"https://a", "a:443", ""},
		{"https://[::1]", "[::1]:443", ""},
		{"https://a:8443/", "a:8443", ""},
		{"h2c://a:50051", "a:50051", ""},
		{"h2c://a", "", "h2c targets need a port"},
		{"ws://a:1", "", "scheme must be http, https or h2c"},
	}
	for _, tt := range tests {
		_, addr, err := parseTarget(tt.url)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: err %v, want %q", tt.url, err, tt.err)
		case tt.err == "" && (err != nil || addr != tt.addr):
			t.Errorf("%s: addr %q err %v, want %q", tt.url, addr, err, tt.addr)
		}
	}
}

func TestBuildSchemes(t *testing.T) {
	active := config.Health{Active: &config.ActiveHealth{Path: "/healthz"}}
	for _, tt := range []struct{ url, scheme, addr, probe string }{
		{"h2c://a:1", SchemeH2C, "a:1", "http://a:1/healthz"},
		{"https://a", SchemeHTTPS, "a:443", "https://a/healthz"},
		{"https://a:8443", SchemeHTTPS, "a:8443", "https://a:8443/healthz"},
	} {
		p := build(t, &config.Upstream{Targets: []config.Target{{URL: tt.url}}, Health: active}, Options{})
		if p.Scheme != tt.scheme || p.Targets[0].Addr != tt.addr || p.active.urls[0] != tt.probe {
			t.Errorf("%s: scheme %q addr %q probe %q", tt.url, p.Scheme, p.Targets[0].Addr, p.active.urls[0])
		}
	}
	_, err := Build("web", &config.Upstream{Targets: []config.Target{{URL: "https://a"}, {URL: "http://b"}}}, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "targets[1]: scheme http differs from https") {
		t.Errorf("mixed schemes: err %v", err)
	}
}

// Certificate verification off is logged each time such a pool is built.
func TestInsecureSkipVerifyWarns(t *testing.T) {
	logs := &logBuffer{}
	cfg := &config.Upstream{Targets: []config.Target{{URL: "https://a"}}, TLS: config.UpstreamTLS{InsecureSkipVerify: true}}
	for range 2 {
		build(t, cfg, Options{Logger: logs.logger()})
	}
	const warning = "upstream web: TLS certificate verification is OFF (insecure_skip_verify); anyone on the path can impersonate the target"
	if n := logs.count(warning); n != 2 || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("want the warning twice, at WARN:\n%s", logs)
	}
	build(t, &config.Upstream{Targets: []config.Target{{URL: "https://a"}}}, Options{Logger: logs.logger()})
	if n := logs.count(warning); n != 2 {
		t.Errorf("a verifying pool warned too:\n%s", logs)
	}
}

// caFile writes srv's certificate as a PEM file, to trust it as a CA.
func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

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

// Active probes use the pool's TLS settings and protocol.
func TestActiveProbeProtocols(t *testing.T) {
	tlsSrv := newProtoServer(t, true, false)
	h2cSrv := newProtoServer(t, false, true)
	httpsURL := tlsSrv.URL
	h2cURL := strings.Replace(h2cSrv.URL, "http://", "h2c://", 1)
	tests := []struct {
		name  string
		srv   *protoServer
		url   string
		tls   config.UpstreamTLS
		up    bool
		proto string
	}{
		{"https with the CA", tlsSrv, httpsURL, config.UpstreamTLS{CA: caFile(t, tlsSrv.Server)}, true, "HTTP/2.0"},
		{"https with server_name", tlsSrv, httpsURL, config.UpstreamTLS{CA: caFile(t, tlsSrv.Server), ServerName: "example.com"}, true, "HTTP/2.0"},
		{"https without the CA", tlsSrv, httpsURL, config.UpstreamTLS{}, false, ""},
		{"https with a wrong server_name", tlsSrv, httpsURL, config.UpstreamTLS{CA: caFile(t, tlsSrv.Server), ServerName: "other.example"}, false, ""},
		{"https unverified", tlsSrv, httpsURL, config.UpstreamTLS{InsecureSkipVerify: true}, true, "HTTP/2.0"},
		{"h2c", h2cSrv, h2cURL, config.UpstreamTLS{}, true, "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fast()
			a.UnhealthyThreshold = 1
			cfg := &config.Upstream{Targets: []config.Target{{URL: tt.url}}, TLS: tt.tls, Health: config.Health{Active: a}}
			logs := &logBuffer{}
			p := build(t, cfg, Options{Logger: logs.logger()})
			ctx, cancel := context.WithCancel(context.Background())
			p.Start(ctx)
			t.Cleanup(func() { cancel(); p.wg.Wait() })
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

// TLS values are compared by content: equal while the files are, unequal
// once one changes.
func TestLoadTLSComparable(t *testing.T) {
	srv := newProtoServer(t, true, false)
	ca := caFile(t, srv.Server)
	c := &config.UpstreamTLS{CA: ca, ServerName: "example.com"}
	a, err := LoadTLS(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadTLS(c)
	if !reflect.DeepEqual(a, b) {
		t.Error("two loads of the same files differ")
	}
	data, _ := os.ReadFile(ca)
	if err := os.WriteFile(ca, append(data, data...), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ = LoadTLS(c); reflect.DeepEqual(a, b) {
		t.Error("a changed CA file loads equal")
	}

	for _, bad := range []config.UpstreamTLS{
		{CA: filepath.Join(t.TempDir(), "nope.pem")},
		{CA: writeFile(t, "not pem")},
		{Cert: ca},
		{Cert: ca, Key: writeFile(t, "not a key")},
	} {
		_, err := LoadTLS(&bad)
		file := bad.CA + bad.Key
		if bad.Key == "" && bad.CA == "" {
			file = "cert and key"
		}
		if err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("LoadTLS(%+v) = %v, want an error naming %s", bad, err, file)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f.pem")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
