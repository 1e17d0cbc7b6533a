package upstream

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Build fails only on what it cannot run; every other rule is config's
// (gateway/names_test.go checks that config refuses what Build trusts).
func TestBuildErrors(t *testing.T) {
	ok := weighted(1)
	tests := []struct {
		name string
		spec Spec
		o    Options
		want string
	}{
		{"no targets", Spec{}, Options{}, "no targets"},
		{"bad scheme", Spec{Targets: urls("ftp://a")}, Options{}, "scheme must be one of http, https, h2c"},
		{"no scheme", Spec{Targets: urls("10.0.0.1:80")}, Options{}, "targets[0]"},
		{"unparsable", Spec{Targets: urls("http://a b:%")}, Options{}, "target URL"},
		{"balance", Spec{Targets: ok, Balance: 99}, Options{}, "balance unknown(99): not one of round_robin, least_conn, p2c, hash, sticky"},
		{"active without a client", Spec{Targets: ok, Active: &Active{Interval: time.Second}}, Options{}, "no probe client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore()
			_, err := Build("web", tt.spec, s, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if s.len() != 0 {
				t.Error("a failed Build touched the store")
			}
		})
	}
}

// Build takes the Spec as given: it fills in no defaults of its own, only
// clamps what would not run (attempts, a zero weight).
func TestBuildTakesSpec(t *testing.T) {
	tests := []struct {
		attempts, want int
	}{{0, 1}, {-1, 1}, {1, 1}, {5, 5}, {MaxAttempts + 5, MaxAttempts}}
	for _, tt := range tests {
		p := build(t, Spec{Targets: weighted(1), Retry: Retry{Attempts: tt.attempts}}, Options{})
		if p.Attempts != tt.want {
			t.Errorf("attempts %d: got %d, want %d", tt.attempts, p.Attempts, tt.want)
		}
	}

	expect := func(c int) bool { return c == 204 }
	spec := Spec{
		Targets: []TargetSpec{{URL: "http://a"}, {URL: "http://b"}, {URL: "http://[::1]:81/", Weight: 7}},
		Active: &Active{Path: "/healthz", Host: "h", Interval: 3 * time.Second, Timeout: time.Second,
			ExpectStatus: expect, HealthyThreshold: 4, UnhealthyThreshold: 5},
		Passive: Passive{MaxFails: 2, Cooldown: time.Minute, FailStatus: []int{502}},
	}
	p := build(t, spec, Options{})
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
		if tg.URL.String() != w.url || tg.Addr != w.addr || tg.Weight != w.weight || tg.Name != spec.Targets[i].URL {
			t.Errorf("target %d = %s %s %d %s", i, tg.URL, tg.Addr, tg.Weight, tg.Name)
		}
		if got := p.active.urls[i]; got != w.probe {
			t.Errorf("probe URL %d = %s, want %s", i, got, w.probe)
		}
	}
	a := p.active
	if a.host != "h" || a.interval != 3*time.Second || a.timeout != time.Second || a.healthy != 4 || a.unhealthy != 5 ||
		!a.expect(204) || a.expect(200) {
		t.Errorf("active settings not taken: %+v", a)
	}
	if p.cooldown != time.Minute || p.maxFails != 2 || !p.FailStatus(502) || p.FailStatus(503) {
		t.Errorf("passive: cooldown %v, max fails %d", p.cooldown, p.maxFails)
	}
	if s := p.Balancer.(*roundRobin); s == nil {
		t.Error("the zero Balance is not round robin")
	}
	if p.client == nil || p.client.CheckRedirect == nil {
		t.Error("probes would follow redirects")
	}
}

// The pool probes with a copy of the caller's client that never follows
// redirects, and leaves the caller's client as it was.
func TestBuildProbeClient(t *testing.T) {
	c := &http.Client{Timeout: time.Minute}
	p := build(t, Spec{Targets: weighted(1), Active: &Active{Interval: time.Second}}, Options{Client: c})
	if c.CheckRedirect != nil {
		t.Error("Build changed the caller's client")
	}
	if p.client == c || p.client.Timeout != time.Minute {
		t.Error("the probe client is not a copy of the caller's")
	}
	if err := p.client.CheckRedirect(nil, nil); err != http.ErrUseLastResponse {
		t.Errorf("CheckRedirect = %v, want ErrUseLastResponse", err)
	}
}
