package demo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/demo"
	"github.com/gatehouse-proxy/gatehouse/examples"
	"github.com/gatehouse-proxy/gatehouse/gateway"
	"github.com/gatehouse-proxy/gatehouse/server"
)

// exampleVars are the variables examples/gatehouse.yaml refers to.
var exampleVars = []string{"API_1", "API_2", "APP", "ASSETS", "ECHO", "GATEHOUSE_LISTEN", "GATEHOUSE_LOG_FORMAT", "IDP"}

// TestExampleConfigLoads keeps the shipped example loadable: with its
// variables set, as `gatehouse demo` sets them, and with none set, as
// `gatehouse run -config examples/gatehouse.yaml` from the repository root
// reads it.
func TestExampleConfigLoads(t *testing.T) {
	onDisk, err := os.ReadFile("../examples/gatehouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, examples.Config) {
		t.Fatal("examples.Config differs from examples/gatehouse.yaml")
	}
	var used []string
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9_]+)`).FindAllSubmatch(examples.Config, -1) {
		used = append(used, string(m[1]))
	}
	if used = slices.Compact(slices.Sorted(slices.Values(used))); !slices.Equal(used, exampleVars) {
		t.Fatalf("the example refers to %v, want %v (update the demo's services and this test)", used, exampleVars)
	}

	t.Run("variables set", func(t *testing.T) {
		assets := t.TempDir()
		vars := map[string]string{
			"GATEHOUSE_LISTEN": "127.0.0.1:18080", "GATEHOUSE_LOG_FORMAT": "json",
			"API_1": "http://127.0.0.1:19001", "API_2": "http://127.0.0.1:19002",
			"APP": "http://127.0.0.1:19003", "ECHO": "http://127.0.0.1:19004", "ASSETS": assets,
		}
		cfg, err := config.Load(examples.Config, demo.ConfigFile, func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		})
		if err != nil {
			t.Fatalf("the example does not load:\n%v", err)
		}
		wantExample(t, cfg, vars)
	})

	t.Run("defaults", func(t *testing.T) {
		t.Chdir("..") // the defaults are relative to the repository root
		cfg, err := config.Load(examples.Config, demo.ConfigFile, func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("the example does not load with its defaults:\n%v", err)
		}
		wantExample(t, cfg, map[string]string{
			"GATEHOUSE_LISTEN": "127.0.0.1:8080", "GATEHOUSE_LOG_FORMAT": "text",
			"API_1": "http://127.0.0.1:9001", "API_2": "http://127.0.0.1:9002",
			"APP": "http://127.0.0.1:9003", "ECHO": "http://127.0.0.1:9004", "IDP": "http://127.0.0.1:9005", "ASSETS": "./examples/assets",
		})
	})
}

// wantExample checks that cfg is the example's topology with vars filled in.
func wantExample(t *testing.T, cfg *config.Config, vars map[string]string) {
	t.Helper()
	if len(cfg.Listeners) != 1 || cfg.Listeners[0].Address != vars["GATEHOUSE_LISTEN"] {
		t.Errorf("listeners %+v, want one on %s", cfg.Listeners, vars["GATEHOUSE_LISTEN"])
	}
	if cfg.Log.Format != vars["GATEHOUSE_LOG_FORMAT"] {
		t.Errorf("log format %q, want %q", cfg.Log.Format, vars["GATEHOUSE_LOG_FORMAT"])
	}
	targets := map[string][]string{}
	for name, u := range cfg.Upstreams {
		for _, tg := range u.Targets {
			targets[name] = append(targets[name], tg.URL)
		}
	}
	wantTargets := map[string][]string{
		"api": {vars["API_1"], vars["API_2"]}, "app": {vars["APP"]}, "echo": {vars["ECHO"]},
	}
	if !maps.EqualFunc(targets, wantTargets, slices.Equal) {
		t.Errorf("upstream targets %v, want %v", targets, wantTargets)
	}
	var names []string
	for _, r := range cfg.Routes {
		names = append(names, r.Name)
		if r.Name == "assets" && (r.Static == nil || r.Static.Root != vars["ASSETS"]) {
			t.Errorf("assets route %+v, want static from %s", r, vars["ASSETS"])
		}
	}
	if want := []string{"api", "api-quota", "api-private", "api-orders", "api-staff", "assets", "websocket", "old-api", "health", "app"}; !slices.Equal(names, want) {
		t.Errorf("routes %v, want %v", names, want)
	}
}

// TestServicesInProcess runs the demo services and Gatehouse in this
// process, from Services.Config, and checks what the try-me list does not
// show: the API's echo of a large body, the health route, and that Close
// removes the assets.
func TestServicesInProcess(t *testing.T) {
	svc, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if got := slices.Sorted(maps.Keys(svc.Env)); !slices.Equal(got, []string{"API_1", "API_2", "APP", "ASSETS", "ECHO", "IDP"}) {
		t.Fatalf("Services.Env has %v", got)
	}
	// Not "127.0.0.1:0": config validation rejects port 0 for listeners
	// (config/validate_test.go wants that), so Server.Addr's ":0" case
	// cannot be reached through a loaded config.
	srv := server.New(gateway.NewEnv(nil, nil))
	var listen string
	for try := 0; ; try++ {
		listen = freeAddr(t)
		cfg, err := svc.Config(listen)
		if err != nil {
			t.Fatal(err)
		}
		if err = srv.Apply(cfg); err == nil {
			break
		} else if try == 3 {
			t.Fatal(err)
		}
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	base := "http://" + srv.Addr(listen).String()

	sent := make([]byte, 200<<10) // below 256KiB, where net/http discards what a handler left unread
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range sent {
		sent[i] = byte(rng.Uint32())
	}
	res, err := http.Post(base+"/api/echo", "application/x-test", bytes.NewReader(sent))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-test" || !bytes.Equal(got, sent) {
		t.Errorf("POST /api/echo of %d bytes: %d %q, %d bytes back (%v); want 200 and the same bytes",
			len(sent), res.StatusCode, res.Header.Get("Content-Type"), len(got), err)
	}

	res, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("GET /healthz: %d %q, want 200 %q", res.StatusCode, body, "ok\n")
	}

	assets := svc.Env["ASSETS"]
	if _, err := os.Stat(filepath.Join(assets, "app.js")); err != nil {
		t.Errorf("the assets were not written: %v", err)
	}
	svc.Close()
	if _, err := os.Stat(assets); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left %s behind (%v)", assets, err)
	}
}
