package upstream

import (
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
)

func TestBuildErrors(t *testing.T) {
	ok := weighted(1)
	tests := []struct {
		name string
		cfg  *config.Upstream
		want string
	}{
		{"nil config", nil, "no upstream config"},
		{"no targets", &config.Upstream{}, "no targets"},
		{"bad scheme", &config.Upstream{Targets: []config.Target{{URL: "ftp://a"}}}, "scheme"},
		{"no scheme", &config.Upstream{Targets: []config.Target{{URL: "10.0.0.1:80"}}}, "targets[0]"},
		{"no host", &config.Upstream{Targets: []config.Target{{URL: "http://"}}}, "no host"},
		{"path", &config.Upstream{Targets: []config.Target{{URL: "http://a/api"}}}, "only scheme://host:port"},
		{"query", &config.Upstream{Targets: []config.Target{{URL: "http://a?x=1"}}}, "only scheme://host:port"},
		{"unparsable", &config.Upstream{Targets: []config.Target{{URL: "http://a b:%"}}}, "target URL"},
		{"duplicate", &config.Upstream{Targets: []config.Target{{URL: "http://a:80"}, {URL: "http://A:80/"}}}, "listed twice"},
		{"balance", &config.Upstream{Targets: ok, Balance: "random"}, `balance "random"`},
		{"hash key", &config.Upstream{Targets: ok, Balance: "hash", HashKey: "query:x"}, "hash_key"},
		{"empty header key", &config.Upstream{Targets: ok, Balance: "hash", HashKey: "header:"}, "hash_key"},
		{"cookie name", &config.Upstream{Targets: ok, Balance: "sticky", Sticky: config.Sticky{Cookie: "a b"}}, "cookie"},
		{"expect status", &config.Upstream{Targets: ok, Health: config.Health{Active: &config.ActiveHealth{ExpectStatus: "2xx"}}}, "expect_status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore()
			_, err := Build("web", tt.cfg, s, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if s.len() != 0 {
				t.Error("a failed Build touched the store")
			}
		})
	}
}

func TestBuildDefaults(t *testing.T) {
	tests := []struct {
		attempts, want int
	}{{0, 3}, {-1, 3}, {1, 1}, {5, 5}, {MaxAttempts + 5, MaxAttempts}}
	for _, tt := range tests {
		p := build(t, &config.Upstream{Targets: weighted(1), Retry: config.Retry{Attempts: tt.attempts}}, Options{})
		if p.Attempts != tt.want {
			t.Errorf("attempts %d: got %d, want %d", tt.attempts, p.Attempts, tt.want)
		}
	}

	cfg := &config.Upstream{Targets: []config.Target{
		{URL: "http://a"}, {URL: "http://b"}, {URL: "http://[::1]:81/", Weight: 7},
	}, Health: config.Health{Active: &config.ActiveHealth{Path: "healthz"}}}
	p := build(t, cfg, Options{})
	want := []struct {
		url, addr, probe string
		weight           int
	}{
		{"http://a", "a:80", "http://a/healthz", 1},
		{"http://b", "b:80", "http://b/healthz", 1},
		{"http://[::1]:81", "[::1]:81", "http://[::1]:81/healthz", 7},
	}
	for i, w := range want {
		tg := p.Targets[i]
		if tg.URL.String() != w.url || tg.Addr != w.addr || tg.Weight != w.weight || tg.Name != cfg.Targets[i].URL {
			t.Errorf("target %d = %s %s %d %s", i, tg.URL, tg.Addr, tg.Weight, tg.Name)
		}
		if got := p.active.urls[i]; got != w.probe {
			t.Errorf("probe URL %d = %s, want %s", i, got, w.probe)
		}
	}
	a := p.active
	if a.interval != defaultInterval || a.timeout != defaultTimeout || a.healthy != 2 || a.unhealthy != 3 ||
		!a.expect.has(200) || !a.expect.has(399) || a.expect.has(400) {
		t.Errorf("active defaults not applied: %+v", a)
	}
	if p.cooldown != defaultCooldown || p.maxFails != 0 {
		t.Errorf("passive: cooldown %v, max fails %d", p.cooldown, p.maxFails)
	}
	if s := p.Balancer.(*roundRobin); s == nil {
		t.Error("default policy is not round robin")
	}
}
