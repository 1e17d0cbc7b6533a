package config

import (
	"reflect"
	"testing"
	"time"
)

func sec(n int) Duration { return Duration(time.Duration(n) * time.Second) }

// wantGlobals are the documented global defaults.
func wantGlobals() Config {
	return Config{
		Forwarding: Forwarding{RequestIDHeader: "X-Request-ID"},
		Limits:     Limits{MaxBodyBytes: 10 << 20, DrainTimeout: sec(30)},
		Log:        Log{Format: "json", Level: "info", Output: "stdout", Access: true},
	}
}

// wantUpstream is an upstream with every default and the given targets.
func wantUpstream(targets ...Target) *Upstream {
	return &Upstream{
		Targets:               targets,
		Balance:               "round_robin",
		HashKey:               "client_ip",
		Sticky:                Sticky{Cookie: "gh_sticky"},
		DialTimeout:           sec(5),
		ResponseHeaderTimeout: sec(60),
		IdleConnTimeout:       sec(90),
		MaxIdleConns:          128,
		UpgradeIdleTimeout:    sec(600),
		SendTimeout:           sec(60),
		ReadTimeout:           sec(60),
		Health:                Health{Passive: PassiveHealth{MaxFails: 3, Cooldown: sec(10)}},
		Retry:                 Retry{Attempts: 3, Budget: 0.2, MinPerSecond: 10},
	}
}

func wantActive() *ActiveHealth {
	return &ActiveHealth{Path: "/", Interval: sec(10), Timeout: sec(2), ExpectStatus: "200-399", HealthyThreshold: 2, UnhealthyThreshold: 3}
}

func TestDefault(t *testing.T) {
	want := wantGlobals()
	if got := Default(); !reflect.DeepEqual(*got, want) {
		t.Errorf("Default() = %+v\nwant %+v", *got, want)
	}
}

func TestNewUpstream(t *testing.T) {
	want := wantUpstream(Target{URL: "http://a:1", Weight: 1}, Target{URL: "http://b:2", Weight: 1})
	if got := NewUpstream("http://a:1", "http://b:2"); !reflect.DeepEqual(got, want) {
		t.Errorf("NewUpstream = %+v\nwant %+v", got, want)
	}
	want = wantUpstream(Target{URL: "http://a:80", Weight: 1})
	if got := NewUpstream("http://a"); !reflect.DeepEqual(got, want) {
		t.Errorf("NewUpstream = %+v\nwant %+v", got, want)
	}
}

// TestLoadFillsDefaults loads a config that leaves out everything it can
// and compares the whole result.
func TestLoadFillsDefaults(t *testing.T) {
	dir := t.TempDir()
	src := `listeners:
  - address: ":8080"
upstreams:
  api:
    targets: [http://10.0.0.1, "http://10.0.0.2:81/", {url: "http://[::1]"}]
    health:
      active: {}
routes:
  - upstream: api
  - match: {path: /files}
    static:
      root: ${ROOT}
  - match: {path: /old}
    redirect: {to: /new}
  - match: {path: /ping}
    respond: {}
default_route:
  upstream: http://fallback
`
	got := mustLoad(t, src, env("ROOT", dir))
	want := wantGlobals()
	want.Listeners = []Listener{{Name: ":8080", Address: ":8080", ReadHeaderTimeout: sec(10), IdleTimeout: sec(120), MaxHeaderBytes: 64 << 10, MaxHeaderCount: 100, Engine: "gatehouse", ClientBodyTimeout: sec(60), SendTimeout: sec(60), RedirectHTTPS: true}}
	api := wantUpstream(
		Target{URL: "http://10.0.0.1:80", Weight: 1},
		Target{URL: "http://10.0.0.2:81/", Weight: 1},
		Target{URL: "http://[::1]:80", Weight: 1},
	)
	api.Health.Active = wantActive()
	want.Upstreams = map[string]*Upstream{"api": api}
	want.Routes = []Route{
		{Name: "routes[0]", Match: Match{Path: "/"}, Upstream: "api"},
		{Name: "routes[1]", Match: Match{Path: "/files"}, Static: &Static{Root: dir, Index: "index.html"}},
		{Name: "routes[2]", Match: Match{Path: "/old"}, Redirect: &Redirect{To: "/new", Status: 302}},
		{Name: "routes[3]", Match: Match{Path: "/ping"}, Respond: &Respond{Status: 200}},
	}
	want.DefaultRoute = &Route{Name: "default", Match: Match{Path: "/"}, Upstream: "http://fallback:80"}
	if got.File() != testFile {
		t.Errorf("File() = %q", got.File())
	}
	got.pos, got.file = nil, ""
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got  %+v\nwant %+v", *got, want)
		for i := range want.Routes {
			if !reflect.DeepEqual(got.Routes[i], want.Routes[i]) {
				t.Errorf("routes[%d] = %+v, want %+v", i, got.Routes[i], want.Routes[i])
			}
		}
	}
}

// TestExplicitZerosKept checks that zeros written in the file are not
// replaced by defaults, while fields left out get theirs.
func TestExplicitZerosKept(t *testing.T) {
	src := `listeners: [{address: ":8080", idle_timeout: 0s}]
limits: {max_body_bytes: 0, drain_timeout: 0s}
log: {access: false}
upstreams:
  api:
    targets: [http://a:1]
    max_idle_conns: 0
    idle_conn_timeout: 0s
    health: {passive: {max_fails: 0, cooldown: 0s}}
    retry: {budget: 0, min_per_second: 0, attempts: 1}
routes:
  - static: {root: ., index: ""}
`
	c := mustLoad(t, src, nil)
	u := c.Upstreams["api"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"idle_timeout", c.Listeners[0].IdleTimeout, Duration(0)},
		{"read_header_timeout", c.Listeners[0].ReadHeaderTimeout, sec(10)},
		{"max_body_bytes", c.Limits.MaxBodyBytes, Size(0)},
		{"drain_timeout", c.Limits.DrainTimeout, Duration(0)},
		{"access", c.Log.Access, false},
		{"format", c.Log.Format, "json"},
		{"max_idle_conns", u.MaxIdleConns, 0},
		{"idle_conn_timeout", u.IdleConnTimeout, Duration(0)},
		{"dial_timeout", u.DialTimeout, sec(5)},
		{"max_fails", u.Health.Passive.MaxFails, 0},
		{"cooldown", u.Health.Passive.Cooldown, Duration(0)},
		{"budget", u.Retry.Budget, 0.0},
		{"min_per_second", u.Retry.MinPerSecond, 0},
		{"attempts", u.Retry.Attempts, 1},
		{"index", c.Routes[0].Static.Index, ""},
		{"active", u.Health.Active, (*ActiveHealth)(nil)},
		{"max_body_bytes override", c.Routes[0].MaxBodyBytes, (*Size)(nil)},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

// TestApplyDefaults checks defaults for a Config built in code, including
// that explicit zeros are treated as unset, and that it is idempotent.
func TestApplyDefaults(t *testing.T) {
	c := &Config{
		Listeners: []Listener{{Address: ":80"}, {Name: "admin", Address: ":81", IdleTimeout: sec(1)}},
		Upstreams: map[string]*Upstream{
			"api":  {Targets: []Target{{URL: "http://a"}, {URL: "http://b:2", Weight: 5}}, Health: Health{Active: &ActiveHealth{Path: "/healthz"}}},
			"none": nil,
		},
		Routes: []Route{
			{Upstream: "api", Static: &Static{}, Redirect: &Redirect{}, Respond: &Respond{}},
			{Name: "named", Match: Match{Path: "/x"}, Upstream: "http://c"},
		},
		DefaultRoute: &Route{Respond: &Respond{Status: 404}},
	}
	c.ApplyDefaults()
	want := wantGlobals()
	want.Listeners = []Listener{
		{Name: ":80", Address: ":80", ReadHeaderTimeout: sec(10), IdleTimeout: sec(120), MaxHeaderBytes: 64 << 10, MaxHeaderCount: 100, Engine: "gatehouse", ClientBodyTimeout: sec(60), SendTimeout: sec(60), RedirectHTTPS: true},
		{Name: "admin", Address: ":81", ReadHeaderTimeout: sec(10), IdleTimeout: sec(1), MaxHeaderBytes: 64 << 10, MaxHeaderCount: 100, Engine: "gatehouse", ClientBodyTimeout: sec(60), SendTimeout: sec(60), RedirectHTTPS: true},
	}
	api := wantUpstream(Target{URL: "http://a:80", Weight: 1}, Target{URL: "http://b:2", Weight: 5})
	api.Health.Active = wantActive()
	api.Health.Active.Path = "/healthz"
	want.Upstreams = map[string]*Upstream{"api": api, "none": nil}
	want.Routes = []Route{
		{Name: "routes[0]", Match: Match{Path: "/"}, Upstream: "api", Static: &Static{Index: "index.html"}, Redirect: &Redirect{Status: 302}, Respond: &Respond{Status: 200}},
		{Name: "named", Match: Match{Path: "/x"}, Upstream: "http://c:80"},
	}
	want.DefaultRoute = &Route{Name: "default", Match: Match{Path: "/"}, Respond: &Respond{Status: 404}}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("got  %+v\nwant %+v", *c, want)
	}
	c.ApplyDefaults()
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("second ApplyDefaults changed the config: %+v", *c)
	}
}

// TestNullKeepsDefaults checks that a null value is the same as leaving the
// key out, for every kind of field.
func TestNullKeepsDefaults(t *testing.T) {
	src := `listeners:
  - address: ":8080"
    idle_timeout: ~
    max_header_bytes:
log:
forwarding: {request_id_header: null}
upstreams:
  api:
    targets: [http://a:1]
    balance:
    health: {active: ~, passive: {fail_status: ~}}
routes:
  - upstream: api
    match: {path: ~, host: ~}
    static: ~
    max_body_bytes: ~
default_route:
`
	c := mustLoad(t, src, nil)
	want := mustLoad(t, "listeners: [{address: \":8080\"}]\nupstreams: {api: {targets: [http://a:1]}}\nroutes: [{upstream: api}]\n", nil)
	c.pos, want.pos = nil, nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}
