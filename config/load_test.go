package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// completeSrc sets every field; ${ROOT} is a directory.
const completeSrc = `listeners:
  - name: public
    address: ":8080"
    read_header_timeout: 5s
    read_timeout: 1m
    write_timeout: 2m
    idle_timeout: 90s
    max_header_bytes: 32KiB
  - address: 127.0.0.1:9090
trusted_proxies: [10.0.0.0/8, 192.168.1.1, "2001:db8::/32"]
forwarding:
  forwarded: true
  via: true
  request_id_header: X-Trace-ID
  pass_proxy_authorization: true
limits:
  max_body_bytes: 1MB
  drain_timeout: 10s
log:
  format: text
  level: debug
  output: stderr
  access: false
reload:
  watch: true
upstreams:
  api:
    targets:
      - http://10.0.0.1:8080
      - url: http://10.0.0.2:8080
        weight: 3
    balance: hash
    hash_key: header:X-User
    sticky: {cookie: sess, max_age: 1h, secure: true}
    dial_timeout: 2s
    response_header_timeout: 30s
    idle_conn_timeout: 1m
    max_idle_conns: 16
    max_conns: 100
    upgrade_idle_timeout: 10m
    health:
      active:
        path: /healthz
        host: api.internal
        interval: 5s
        timeout: 1s
        expect_status: 200-299,304
        healthy_threshold: 1
        unhealthy_threshold: 5
      passive:
        max_fails: 5
        cooldown: 30s
        fail_status: [502, 503]
    retry: {attempts: 2, budget: 0.1, min_per_second: 5}
routes:
  - name: api
    match:
      host: [api.example.com, "*.api.example.com"]
      path: /api/
      methods: [GET, POST]
      headers: {X-Env: prod}
    upstream: api
    rewrite:
      strip_prefix: /api
      add_prefix: /v1
    host_header: target
    request_headers:
      set: {X-Gateway: gatehouse}
      add: {X-Tag: a}
      remove: [Cookie]
    response_headers:
      remove: Server
    max_body_bytes: 50MiB
  - match: {path: /assets}
    static:
      root: ${ROOT}
      index: ""
      browse: true
      cache_control: max-age=60
    rewrite: {replace_prefix: {from: /assets, to: /}}
  - match: {host: Old.Example.com}
    redirect: {to: "https://new.example.com", status: 308, append_path: true}
  - match: {path: /health}
    respond:
      status: 204
      body: ok
      headers: {Cache-Control: no-store}
default_route:
  respond: {status: 404, body: not found}
`

func completeWant(root string) *Config {
	maxBody := Size(50 << 20)
	return &Config{
		Listeners: []Listener{
			{Name: "public", Address: ":8080", ReadHeaderTimeout: sec(5), ReadTimeout: sec(60), WriteTimeout: sec(120), IdleTimeout: sec(90), MaxHeaderBytes: 32 << 10, MaxHeaderCount: 100, Engine: "gatehouse", ClientBodyTimeout: sec(60), SendTimeout: sec(60), RedirectHTTPS: true},
			{Name: "127.0.0.1:9090", Address: "127.0.0.1:9090", ReadHeaderTimeout: sec(10), IdleTimeout: sec(120), MaxHeaderBytes: 64 << 10, MaxHeaderCount: 100, Engine: "gatehouse", ClientBodyTimeout: sec(60), SendTimeout: sec(60), RedirectHTTPS: true},
		},
		TrustedProxies: []string{"10.0.0.0/8", "192.168.1.1", "2001:db8::/32"},
		Forwarding:     Forwarding{Forwarded: true, Via: true, RequestIDHeader: "X-Trace-ID", PassProxyAuthorization: true},
		Limits:         Limits{MaxBodyBytes: 1e6, DrainTimeout: sec(10)},
		Log:            Log{Format: "text", Level: "debug", Output: "stderr", Access: false},
		Reload:         Reload{Watch: true},
		Upstreams: map[string]*Upstream{"api": {
			Targets:               []Target{{URL: "http://10.0.0.1:8080", Weight: 1}, {URL: "http://10.0.0.2:8080", Weight: 3}},
			Balance:               "hash",
			HashKey:               "header:X-User",
			Sticky:                Sticky{Cookie: "sess", MaxAge: sec(3600), Secure: true},
			DialTimeout:           sec(2),
			ResponseHeaderTimeout: sec(30),
			IdleConnTimeout:       sec(60),
			MaxIdleConns:          16,
			MaxConns:              100,
			UpgradeIdleTimeout:    sec(600),
			SendTimeout:           sec(60),
			ReadTimeout:           sec(60),
			Health: Health{
				Active:  &ActiveHealth{Path: "/healthz", Host: "api.internal", Interval: sec(5), Timeout: sec(1), ExpectStatus: "200-299,304", HealthyThreshold: 1, UnhealthyThreshold: 5},
				Passive: PassiveHealth{MaxFails: 5, Cooldown: sec(30), FailStatus: []int{502, 503}},
			},
			Retry: Retry{Attempts: 2, Budget: 0.1, MinPerSecond: 5},
		}},
		Routes: []Route{{
			Name:            "api",
			Match:           Match{Host: Strings{"api.example.com", "*.api.example.com"}, Path: "/api/", Methods: Strings{"GET", "POST"}, Headers: map[string]string{"X-Env": "prod"}},
			Upstream:        "api",
			Rewrite:         Rewrite{StripPrefix: "/api", AddPrefix: "/v1"},
			HostHeader:      "target",
			RequestHeaders:  HeaderOps{Set: map[string]string{"X-Gateway": "gatehouse"}, Add: map[string]string{"X-Tag": "a"}, Remove: Strings{"Cookie"}},
			ResponseHeaders: HeaderOps{Remove: Strings{"Server"}},
			MaxBodyBytes:    &maxBody,
		}, {
			Name:    "routes[1]",
			Match:   Match{Path: "/assets"},
			Static:  &Static{Root: root, Index: "", Browse: true, CacheControl: "max-age=60"},
			Rewrite: Rewrite{ReplacePrefix: &ReplacePrefix{From: "/assets", To: "/"}},
		}, {
			Name:     "routes[2]",
			Match:    Match{Host: Strings{"Old.Example.com"}, Path: "/"},
			Redirect: &Redirect{To: "https://new.example.com", Status: 308, AppendPath: true},
		}, {
			Name:    "routes[3]",
			Match:   Match{Path: "/health"},
			Respond: &Respond{Status: 204, Body: "ok", Headers: map[string]string{"Cache-Control": "no-store"}},
		}},
		DefaultRoute: &Route{Name: "default", Match: Match{Path: "/"}, Respond: &Respond{Status: 404, Body: "not found"}},
	}
}

// TestCompleteConfigRoundTrip loads a config that sets every field, checks
// every value, then checks that writing it out with yaml.Marshal and loading
// that again reaches a fixed point.
func TestCompleteConfigRoundTrip(t *testing.T) {
	root := t.TempDir()
	got := mustLoad(t, completeSrc, env("ROOT", root))
	got.pos, got.file = nil, ""
	want := completeWant(root)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	out1, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again := mustLoad(t, string(out1), nil)
	out2, err := yaml.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if string(out1) != string(out2) {
		t.Fatalf("round trip changed the config:\n%s\n---\n%s", out1, out2)
	}
	if !strings.Contains(string(out1), "interval: 5s\n") {
		t.Errorf("durations are not written as text:\n%s", out1)
	}
}

func TestPosOf(t *testing.T) {
	c := mustLoad(t, completeSrc, env("ROOT", t.TempDir()))
	tests := []struct {
		path string
		want Pos
	}{
		{"listeners", Pos{1, 1}},
		{"listeners[0]", Pos{2, 5}},
		{"listeners[0].address", Pos{3, 14}},
		{"listeners[1].name", Pos{9, 5}}, // left out: the listener
		{"trusted_proxies[2]", Pos{10, 44}},
		{"upstreams.api", Pos{27, 3}},
		{"upstreams.api.targets[1]", Pos{30, 9}},
		{"upstreams.api.targets[1].weight", Pos{31, 17}},
		{"upstreams.api.health.active", Pos{42, 7}},
		{"routes[0].match.path", Pos{59, 13}},
		{"routes[0].match.headers.X-Env", Pos{61, 17}},
		{"routes[0].request_headers.remove[0]", Pos{70, 16}},
		{"routes[1].rewrite.strip_prefix", Pos{80, 5}}, // left out: rewrite
		{"nonexistent.key", Pos{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := c.PosOf(tt.path); got != tt.want {
				t.Errorf("PosOf(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if got := (&Config{}).PosOf("listeners"); got != (Pos{}) {
		t.Errorf("PosOf on a Config built in code = %v", got)
	}
}

func TestTrustedPrefixes(t *testing.T) {
	c := &Config{TrustedProxies: []string{"10.1.2.3/8", "192.168.1.1", "::1", "2001:db8::1/32", "bad"}}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.1/32"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	if got := c.TrustedPrefixes(); !reflect.DeepEqual(got, want) {
		t.Errorf("TrustedPrefixes() = %v, want %v", got, want)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(L), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(L+"log: {level: loud}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(good)
	if err != nil || c.File() != good || c.Listeners[0].Address != ":8080" {
		t.Fatalf("LoadFile(good) = %+v, %v", c, err)
	}
	_, err = LoadFile(bad)
	if want := bad + `:2:14: log.level: unknown level "loud"; use debug, info, warn or error`; err == nil || err.Error() != want {
		t.Fatalf("LoadFile(bad) error = %v, want %s", err, want)
	}
	_, err = LoadFile(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadFile(missing) error = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadUsesEnvironmentByDefault(t *testing.T) {
	t.Setenv("GH_TEST_ADDR", ":7070")
	c, err := Load([]byte("listeners: [{address: \"${GH_TEST_ADDR}\"}]\n"), "", nil)
	if err != nil || c.Listeners[0].Address != ":7070" {
		t.Fatalf("Load = %+v, %v", c, err)
	}
}

func TestProblemFormat(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "f.yaml", Pos: Pos{3, 7}, Path: "a.b", Msg: "bad"}, "f.yaml:3:7: a.b: bad"},
		{Problem{File: "f.yaml", Pos: Pos{3, 0}, Msg: "bad"}, "f.yaml:3: bad"},
		{Problem{Pos: Pos{3, 7}, Path: "a", Msg: "bad"}, "3:7: a: bad"},
		{Problem{File: "f.yaml", Path: "a", Msg: "bad"}, "f.yaml: a: bad"},
		{Problem{Path: "a", Msg: "bad"}, "a: bad"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	ps := Problems{
		{File: "f", Pos: Pos{5, 1}, Msg: "e"},
		{File: "f", Pos: Pos{2, 9}, Msg: "c"},
		{File: "f", Msg: "a"},
		{File: "f", Pos: Pos{2, 3}, Msg: "b"},
		{File: "f", Pos: Pos{5, 1}, Msg: "f"},
	}
	if got, want := ps.Error(), "f: a\nf:2:3: b\nf:2:9: c\nf:5:1: e\nf:5:1: f"; got != want {
		t.Errorf("Problems.Error() = %q, want %q", got, want)
	}
	if ps[0].Msg != "e" {
		t.Errorf("Problems.Error() reordered its receiver")
	}
}

func TestParseStatusSet(t *testing.T) {
	tests := []struct {
		in      string
		yes, no []int
		err     string
	}{
		{in: "200-399", yes: []int{200, 301, 399}, no: []int{199, 400, 500}},
		{in: "200,204", yes: []int{200, 204}, no: []int{201, 203, 205}},
		{in: "200-299, 304", yes: []int{200, 250, 299, 304}, no: []int{300, 303, 305}},
		{in: "100-599", yes: []int{100, 599}, no: []int{99, 600}},
		{in: "", err: `"" is not a status set such as 200-399 or 200,204: "" is not a status from 100 to 599`},
		{in: "200-", err: `"200-" is not a status set such as 200-399 or 200,204: "" is not a status from 100 to 599`},
		{in: "2xx", err: `"2xx" is not a status set such as 200-399 or 200,204: "2xx" is not a status from 100 to 599`},
		{in: "200,,204", err: `"200,,204" is not a status set such as 200-399 or 200,204: "" is not a status from 100 to 599`},
		{in: "99", err: `"99" is not a status set such as 200-399 or 200,204: "99" is not a status from 100 to 599`},
		{in: "+200", err: `"+200" is not a status set such as 200-399 or 200,204: "+200" is not a status from 100 to 599`},
		{in: "399-200", err: `status range "399-200" in "399-200" runs backwards`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			match, err := ParseStatusSet(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, code := range tt.yes {
				if !match(code) {
					t.Errorf("%d not in %q", code, tt.in)
				}
			}
			for _, code := range tt.no {
				if match(code) {
					t.Errorf("%d in %q", code, tt.in)
				}
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	b, err := Duration(90 * time.Second).MarshalText()
	if err != nil || string(b) != "1m30s" {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	if d, err := parseDuration("1m30s"); err != nil || d != Duration(90*time.Second) {
		t.Fatalf("parseDuration = %v, %v", d, err)
	}
	if d, err := parseDuration("0"); err != nil || d != 0 {
		t.Fatalf(`parseDuration("0") = %v, %v`, d, err)
	}
}

func TestSizeUnits(t *testing.T) {
	tests := map[string]Size{
		"512": 512, "0": 0, "1B": 1, "64KiB": 64 << 10, "10MiB": 10 << 20, "1GiB": 1 << 30, "2TiB": 2 << 40,
		"10KB": 10e3, "10MB": 10e6, "1GB": 1e9, "1tb": 1e12, "64kib": 64 << 10, "10 MiB": 10 << 20,
	}
	for in, want := range tests {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}
