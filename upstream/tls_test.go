package upstream

import (
	"strings"
	"testing"
	"time"
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
		{"ws://a:1", "", "scheme must be one of http, https, h2c"},
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

// Probe URLs keep the target's scheme; the probe client speaks it.
func TestBuildSchemes(t *testing.T) {
	active := &Active{Path: "/healthz", Interval: time.Second}
	for _, tt := range []struct{ url, scheme, addr, probe string }{
		{"h2c://a:1", SchemeH2C, "a:1", "h2c://a:1/healthz"},
		{"https://a", SchemeHTTPS, "a:443", "https://a/healthz"},
		{"https://a:8443", SchemeHTTPS, "a:8443", "https://a:8443/healthz"},
	} {
		p := build(t, Spec{Targets: urls(tt.url), Active: active}, Options{})
		if p.Scheme != tt.scheme || p.Targets[0].Addr != tt.addr || p.active.urls[0] != tt.probe {
			t.Errorf("%s: scheme %q addr %q probe %q", tt.url, p.Scheme, p.Targets[0].Addr, p.active.urls[0])
		}
	}
}

// Certificate verification off is logged each time such a pool is built.
func TestInsecureSkipVerifyWarns(t *testing.T) {
	logs := &logBuffer{}
	cfg := Spec{Targets: urls("https://a"), InsecureSkipVerify: true}
	for range 2 {
		build(t, cfg, Options{Logger: logs.logger()})
	}
	const warning = "upstream web: TLS certificate verification is OFF (insecure_skip_verify); anyone on the path can impersonate the target"
	if n := logs.count(warning); n != 2 || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("want the warning twice, at WARN:\n%s", logs)
	}
	build(t, Spec{Targets: urls("https://a")}, Options{Logger: logs.logger()})
	if n := logs.count(warning); n != 2 {
		t.Errorf("a verifying pool warned too:\n%s", logs)
	}
}
