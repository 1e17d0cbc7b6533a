package gateway

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// Config owns the names; the compilers accept exactly the names config
// validates, no more (a setting config would refuse) and no fewer (one a
// user could write that the compiler does not know).
func TestNamesAgree(t *testing.T) {
	tests := []struct {
		what             string
		config, compiler []string
	}{
		{"balance policies", config.BalanceNames(), upstream.Balancers()},
		{"hash key kinds", config.HashKeyKinds(), upstream.HashKeyKinds()},
		{"target schemes", config.TargetSchemes(), upstream.Schemes()},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.config, tt.compiler) {
			t.Errorf("%s: config validates %q, upstream compiles %q", tt.what, tt.config, tt.compiler)
		}
	}
	if config.MaxAttempts != upstream.MaxAttempts {
		t.Errorf("retry.attempts: config allows up to %d, upstream up to %d", config.MaxAttempts, upstream.MaxAttempts)
	}
	// Each name maps to the value of that name.
	for _, name := range config.BalanceNames() {
		s, err := poolSpec(&config.Upstream{Balance: name, HashKey: "client_ip"})
		if err != nil || s.Balance.String() != name {
			t.Errorf("balance %s maps to %s, %v", name, s.Balance, err)
		}
	}
	for _, kind := range config.HashKeyKinds() {
		key := kind
		if kind != "client_ip" {
			key += ":X"
		}
		s, err := poolSpec(&config.Upstream{Balance: "hash", HashKey: key})
		if err != nil || s.HashKey.Kind.String() != kind {
			t.Errorf("hash_key %s maps to %s, %v", key, s.HashKey.Kind, err)
		}
	}
}

// upstreamYAML is a config whose upstream "api" starts on line 3 with the
// given keys (indented by 4).
func upstreamYAML(keys string) string {
	return "listeners: [{address: \":8080\"}]\nupstreams:\n  api:\n" + keys
}

// What upstream.Build used to check and now trusts, config refuses, each
// with the file and line at fault.
func TestConfigRefusesWhatBuildTrusts(t *testing.T) {
	tests := []struct {
		name, keys, want string
	}{
		{"no targets", "    targets: []\n", "gh.yaml:4:5: upstreams.api.targets: at least one target"},
		{"bad scheme", "    targets: [ftp://a:1]\n", `gh.yaml:4:15: upstreams.api.targets[0].url: "ftp://a:1": scheme "ftp" is not supported`},
		{"no scheme", "    targets: ['10.0.0.1:80']\n", `gh.yaml:4:15: upstreams.api.targets[0].url: "10.0.0.1:80" is not a URL`},
		{"no host", "    targets: ['http://']\n", `gh.yaml:4:15: upstreams.api.targets[0].url: "http://": has no host`},
		{"path", "    targets: [http://a/api]\n", "gh.yaml:4:15: upstreams.api.targets[0].url: \"http://a:80/api\": must not have a path"},
		{"query", "    targets: ['http://a?x=1']\n", "gh.yaml:4:15: upstreams.api.targets[0].url: \"http://a:80?x=1\": must not have a query"},
		{"unparsable", "    targets: ['http://a b:%']\n", `gh.yaml:4:15: upstreams.api.targets[0].url: "http://a b:%" is not a URL`},
		{"duplicate", "    targets: ['http://a:80', 'http://A:80/']\n", `gh.yaml:4:30: upstreams.api.targets[1].url: target "http://a:80" is already used by upstreams.api.targets[0]`},
		{"mixed schemes", "    targets: ['https://a', 'http://b']\n", "gh.yaml:4:28: upstreams.api.targets[1].url: scheme http differs from https"},
		{"h2c without a port", "    targets: ['h2c://a']\n", `gh.yaml:4:15: upstreams.api.targets[0].url: "h2c://a": h2c has no default port`},
		{"weight", "    targets: [{url: http://a, weight: 0}]\n", "gh.yaml:4:39: upstreams.api.targets[0].weight: must be from 1 to 1000, got 0"},
		{"balance", "    targets: [http://a]\n    balance: random\n", `gh.yaml:5:14: upstreams.api.balance: unknown balance "random"; use round_robin, least_conn, p2c, hash or sticky`},
		{"hash key", "    targets: [http://a]\n    hash_key: 'query:x'\n", `gh.yaml:5:15: upstreams.api.hash_key: unknown hash_key "query:x"`},
		{"empty header key", "    targets: [http://a]\n    hash_key: 'header:'\n", `gh.yaml:5:15: upstreams.api.hash_key: "" is not a valid header name`},
		{"empty cookie key", "    targets: [http://a]\n    hash_key: 'cookie:'\n", `gh.yaml:5:15: upstreams.api.hash_key: "" is not a valid cookie name`},
		{"named client_ip", "    targets: [http://a]\n    hash_key: 'client_ip:x'\n", `gh.yaml:5:15: upstreams.api.hash_key: unknown hash_key "client_ip:x"`},
		{"cookie name", "    targets: [http://a]\n    sticky: {cookie: 'a b'}\n", `gh.yaml:5:22: upstreams.api.sticky.cookie: "a b" is not a valid cookie name`},
		{"expect status", "    targets: [http://a]\n    health: {active: {expect_status: 2xx}}\n", `gh.yaml:5:38: upstreams.api.health.active.expect_status: "2xx" is not a status set`},
		{"probe path", "    targets: [http://a]\n    health: {active: {path: healthz}}\n", `gh.yaml:5:29: upstreams.api.health.active.path: "healthz" must be a path starting with /`},
		{"probe interval", "    targets: [http://a]\n    health: {active: {interval: 0s}}\n", "gh.yaml:5:33: upstreams.api.health.active.interval: must be greater than 0"},
		{"cooldown", "    targets: [http://a]\n    health: {passive: {cooldown: 0s}}\n", "gh.yaml:5:34: upstreams.api.health.passive.cooldown: must be greater than 0 when max_fails is set"},
		{"attempts", "    targets: [http://a]\n    retry: {attempts: 9}\n", "gh.yaml:5:23: upstreams.api.retry.attempts: must be from 1 to 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load([]byte(upstreamYAML(tt.keys)), "gh.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v\nwant a problem containing %q", err, tt.want)
			}
		})
	}
}

// The defaults a pool runs with are config's, handed over whole: Build
// fills in none of its own.
func TestPoolSpecDefaults(t *testing.T) {
	c, err := config.Load([]byte(upstreamYAML("    targets: [http://a]\n    health: {active: {}}\n")), "gh.yaml",
		func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	s, err := poolSpec(c.Upstreams["api"])
	if err != nil {
		t.Fatal(err)
	}
	a := s.Active
	switch {
	case len(s.Targets) != 1 || s.Targets[0] != (upstream.TargetSpec{URL: "http://a:80", Weight: 1}):
		t.Errorf("targets %+v", s.Targets)
	case s.Balance != upstream.BalanceRoundRobin || s.HashKey != (upstream.HashKey{Kind: upstream.KeyClientIP}):
		t.Errorf("balance %s, hash key %+v", s.Balance, s.HashKey)
	case s.Sticky != (upstream.StickyCookie{Name: "gh_sticky"}):
		t.Errorf("sticky %+v", s.Sticky)
	case s.Passive.MaxFails != 3 || s.Passive.Cooldown != 10*time.Second || len(s.Passive.FailStatus) != 0:
		t.Errorf("passive %+v", s.Passive)
	case s.Retry != (upstream.Retry{Attempts: 3, Budget: 0.2, MinPerSecond: 10}):
		t.Errorf("retry %+v", s.Retry)
	case a == nil || a.Path != "/" || a.Host != "" || a.Interval != 10*time.Second || a.Timeout != 2*time.Second ||
		a.HealthyThreshold != 2 || a.UnhealthyThreshold != 3:
		t.Errorf("active %+v", a)
	case !a.ExpectStatus(200) || !a.ExpectStatus(399) || a.ExpectStatus(199) || a.ExpectStatus(400):
		t.Error("expect_status is not 200-399")
	}
}

// What config writes is what the pool gets: a hash key's kind and name
// (upstream matches header names in any case), a sticky cookie, passive
// and active settings, retries.
func TestPoolSpecMapping(t *testing.T) {
	keys := []struct {
		in   string
		want upstream.HashKey
	}{
		{"client_ip", upstream.HashKey{Kind: upstream.KeyClientIP}},
		{"header:x-user-id", upstream.HashKey{Kind: upstream.KeyHeader, Name: "x-user-id"}},
		{"cookie:Session", upstream.HashKey{Kind: upstream.KeyCookie, Name: "Session"}},
	}
	for _, k := range keys {
		s, err := poolSpec(&config.Upstream{Balance: "hash", HashKey: k.in})
		if err != nil || s.HashKey != k.want {
			t.Errorf("hash_key %s: %+v, %v", k.in, s.HashKey, err)
		}
	}
	u := config.NewUpstream("https://a:8443", "https://b:8443")
	u.Balance = "sticky"
	u.Sticky = config.Sticky{Cookie: "sid", MaxAge: config.Duration(time.Hour), Secure: true}
	u.Health.Passive = config.PassiveHealth{MaxFails: 5, Cooldown: config.Duration(time.Minute), FailStatus: []int{502}}
	u.Health.Active = &config.ActiveHealth{Path: "/ready?x=1", Host: "h.internal", Interval: config.Duration(time.Second),
		Timeout: config.Duration(time.Second / 2), ExpectStatus: "204", HealthyThreshold: 4, UnhealthyThreshold: 6}
	u.Retry = config.Retry{Attempts: 2, Budget: 0.5, MinPerSecond: 1}
	u.TLS.InsecureSkipVerify = true
	s, err := poolSpec(u)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Active
	switch {
	case s.Balance != upstream.BalanceSticky || s.Sticky != (upstream.StickyCookie{Name: "sid", MaxAge: time.Hour, Secure: true}):
		t.Errorf("sticky %s %+v", s.Balance, s.Sticky)
	case s.Passive.MaxFails != 5 || s.Passive.Cooldown != time.Minute || !slices.Equal(s.Passive.FailStatus, []int{502}):
		t.Errorf("passive %+v", s.Passive)
	case a.Path != "/ready?x=1" || a.Host != "h.internal" || a.Interval != time.Second || a.Timeout != time.Second/2 ||
		a.HealthyThreshold != 4 || a.UnhealthyThreshold != 6 || !a.ExpectStatus(204) || a.ExpectStatus(200):
		t.Errorf("active %+v", a)
	case s.Retry != (upstream.Retry{Attempts: 2, Budget: 0.5, MinPerSecond: 1}) || !s.InsecureSkipVerify:
		t.Errorf("retry %+v, insecure %v", s.Retry, s.InsecureSkipVerify)
	case targetScheme(u) != upstream.SchemeHTTPS || targetScheme(config.NewUpstream("H2C://a:1")) != upstream.SchemeH2C:
		t.Errorf("target scheme %q", targetScheme(u))
	}
}

// Status sets reach the pool parsed by config (upstream no longer has a
// parser of its own): the cases upstream's copy was tested with.
func TestStatusSetHandover(t *testing.T) {
	tests := []struct {
		in       string
		has, not []int
		err      bool
	}{
		{in: "200-399", has: []int{200, 301, 399}, not: []int{199, 400, 500}},
		{in: "200,204", has: []int{200, 204}, not: []int{201, 203}},
		{in: " 200 , 300-302 ", has: []int{200, 300, 302}, not: []int{303}},
		{in: "100-599", has: []int{100, 599}, not: []int{99, 600}},
		{in: "", err: true},
		{in: "2xx", err: true},
		{in: "399-200", err: true},
		{in: "200,", err: true},
		{in: "99", err: true},
		{in: "200-600", err: true},
	}
	for _, tt := range tests {
		u := config.NewUpstream("http://a")
		u.Health.Active = &config.ActiveHealth{ExpectStatus: tt.in}
		s, err := poolSpec(u)
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		for _, c := range tt.has {
			if !s.Active.ExpectStatus(c) {
				t.Errorf("%q lacks %d", tt.in, c)
			}
		}
		for _, c := range tt.not {
			if s.Active.ExpectStatus(c) {
				t.Errorf("%q has %d", tt.in, c)
			}
		}
	}
}
