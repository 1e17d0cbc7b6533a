// Package testkit runs Gatehouse in-process for end-to-end tests, with real
// backends and real clients on loopback: a harness that loads a YAML config
// through config.Load and serves it with server.Server (Start), backends
// that record what reaches them and misbehave on demand (NewBackend and the
// handlers), a raw TCP client for requests net/http would clean up (Raw),
// and captured JSON logs to assert on (Logs).
//
// Everything here is for tests: helpers take a testing.TB and fail it
// rather than return errors, and register their own cleanup.
package testkit

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/gateway"
	"github.com/gatehouse-proxy/gatehouse/server"
)

// Vars are the values of ${NAME} references in a config, typically backend
// URLs. They replace the process environment: a name missing here is unset.
type Vars map[string]string

// DefaultListener is added to a config that has no top-level "listeners"
// key: one listener on a free loopback port.
const DefaultListener = `listeners: [{address: "${LISTEN}"}]` + "\n"

// AnyPort is the listener address that binds a free loopback port; configs
// may write it as ${LISTEN}. Only one listener per config can use it: the
// server tells listeners apart by their configured address.
const AnyPort = "127.0.0.1:0"

// Gatehouse is one running instance.
type Gatehouse struct {
	// URL is "http://" + Addr.
	URL string
	// Addr is the bound host:port of the first listener.
	Addr string
	// Server is the running server, for Apply and Shutdown.
	Server *server.Server
	// Logs captures the error log (debug level and up), Access the access
	// log, both as JSON lines.
	Logs, Access *Logs

	t      testing.TB
	vars   Vars
	client *http.Client
}

var hasListeners = regexp.MustCompile(`(?m)^listeners:`)

// Start loads yaml (with ${NAME} references resolved from vars), applies it
// to a new server and returns once it listens. The server is shut down when
// the test ends; if the test failed, its logs are written to the test log.
func Start(t testing.TB, yaml string, vars Vars) *Gatehouse {
	t.Helper()
	g := &Gatehouse{t: t, vars: vars, Logs: &Logs{}, Access: &Logs{}}
	cfg := g.Load(yaml)
	log := slog.New(slog.NewJSONHandler(g.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	access := slog.New(slog.NewJSONHandler(g.Access, nil))
	g.Server = server.New(gateway.NewEnv(log, access))
	if err := g.Server.Apply(cfg); err != nil {
		t.Fatalf("apply config: %v", err)
	}
	addr := g.Server.Addr(cfg.Listeners[0].Address)
	if addr == nil {
		t.Fatalf("no listener bound for %q", cfg.Listeners[0].Address)
	}
	g.Addr = addr.String()
	g.URL = "http://" + g.Addr
	g.client = NewClient()
	t.Cleanup(func() {
		g.client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Server.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("gatehouse log:\n%s\naccess log:\n%s", g.Logs, g.Access)
		}
	})
	return g
}

// Load parses yaml as Start does (default listener, vars) and fails the
// test if it is not a valid config.
func (g *Gatehouse) Load(yaml string) *config.Config {
	g.t.Helper()
	cfg, err := LoadConfig(yaml, g.vars)
	if err != nil {
		g.t.Fatalf("config does not load: %v\n%s", err, yaml)
	}
	return cfg
}

// LoadConfig loads yaml with config.Load, adding DefaultListener when the
// text has no listeners and resolving ${NAME} from vars only, except that
// ${LISTEN}, unless vars set it, is AnyPort.
func LoadConfig(yaml string, vars Vars) (*config.Config, error) {
	if !hasListeners.MatchString(yaml) {
		yaml = DefaultListener + yaml
	}
	return config.Load([]byte(yaml), "test.yaml", func(name string) (string, bool) {
		if v, ok := vars[name]; ok {
			return v, true
		}
		if name == "LISTEN" {
			return AnyPort, true
		}
		if name == config.EngineEnv {
			return os.LookupEnv(name) // the test matrix's choice of engine
		}
		return "", false
	})
}

// Engine returns the HTTP/1.1 engine listeners get unless their config
// says: GATEHOUSE_ENGINE's value, as scripts/test.sh sets it to run the
// end-to-end suite on each engine, or gatehouse. Tests of a behaviour
// where the engines deliberately differ (server/h1/differences.md) ask it.
func Engine() string {
	if e := os.Getenv(config.EngineEnv); e != "" {
		return e
	}
	return config.EngineGatehouse
}

// Apply loads yaml and applies it to the running server, returning Apply's
// error. A config that does not load fails the test.
func (g *Gatehouse) Apply(yaml string) error {
	g.t.Helper()
	return g.Server.Apply(g.Load(yaml))
}

// AddrOf returns the bound host:port of the listener configured at
// address, failing the test if there is none.
func (g *Gatehouse) AddrOf(address string) string {
	g.t.Helper()
	a := g.Server.Addr(address)
	if a == nil {
		g.t.Fatalf("no listener at %q", address)
	}
	return a.String()
}

// Client returns the instance's client: keep-alive, no redirects followed,
// no environment proxy, a 10s timeout. Its idle connections are closed at
// cleanup.
func (g *Gatehouse) Client() *http.Client { return g.client }

// NewClient returns a client like Gatehouse.Client with its own pool.
func NewClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 10 * time.Second,
	}
}

// Get sends GET path (with optional header pairs "Name", "value", ...)
// through Gatehouse and returns the response and its whole body.
func (g *Gatehouse) Get(path string, header ...string) (*http.Response, string) {
	g.t.Helper()
	req := g.NewRequest(http.MethodGet, path, nil, header...)
	return g.Do(req)
}

// NewRequest builds a request to Gatehouse; header holds "Name", "value"
// pairs, and a "Host" pair sets the request's Host.
func (g *Gatehouse) NewRequest(method, path string, body io.Reader, header ...string) *http.Request {
	g.t.Helper()
	req, err := http.NewRequest(method, g.URL+path, body)
	if err != nil {
		g.t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if len(header)%2 != 0 {
		g.t.Fatalf("header pairs: odd count %q", header)
	}
	for i := 0; i < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1]
			continue
		}
		req.Header.Add(header[i], header[i+1])
	}
	return req
}

// Do sends req with the instance's client and reads the whole body. A
// transport error fails the test.
func (g *Gatehouse) Do(req *http.Request) (*http.Response, string) {
	g.t.Helper()
	res, err := g.client.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		g.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return res, string(b)
}
