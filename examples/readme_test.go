package examples_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// TestREADMEConfigs loads every YAML block of the README, so the
// documentation cannot drift from what Gatehouse accepts.
//
// Certificate, key and CA files the blocks name (relative paths) are made
// up in a scratch directory that also links the repository's examples/,
// since the README's static roots are relative to the repository.
func TestREADMEConfigs(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.Symlink(filepath.Join(repo, "examples"), "examples"); err != nil {
		t.Fatal(err)
	}
	writeTLSFiles(t, readme)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) < 3 {
		t.Fatalf("found %d yaml blocks in README.md, want at least 3", len(blocks))
	}
	for i, b := range blocks {
		body := b[1]
		name := "README.md block " + strconv.Itoa(i+1)
		if _, err := config.Load(body, name, func(string) (string, bool) { return "", false }); err != nil {
			t.Errorf("%s does not load:\n%v\n---\n%s", name, err, firstLines(body, 5))
		}
	}
}

// TestExampleLoads loads examples/gatehouse.yaml with its defaults.
func TestExampleLoads(t *testing.T) {
	t.Chdir("..")
	data, err := os.ReadFile("examples/gatehouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(data, "examples/gatehouse.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if got := len(cfg.Routes); got != 10 {
		t.Errorf("example has %d routes, want 10", got)
	}
}

func firstLines(b []byte, n int) []byte {
	lines := bytes.SplitN(b, []byte("\n"), n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return bytes.Join(lines, []byte("\n"))
}

// TestSharedCacheExampleLoads loads examples/shared-cache.yaml with its
// defaults: a tiered cache and a cached, compressed route.
func TestSharedCacheExampleLoads(t *testing.T) {
	data, err := os.ReadFile("shared-cache.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(data, "examples/shared-cache.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Caches["shared"]
	if c == nil || c.Memory == nil || c.Redis == nil || c.Redis.Address != "127.0.0.1:6379" {
		t.Fatalf("caches.shared = %+v, want memory in front of redis at 127.0.0.1:6379", c)
	}
	r := cfg.Routes[0]
	if r.Cache == nil || r.Cache.Store != "shared" || r.Compress == nil {
		t.Errorf("route %q: cache %+v, compress %+v; want both", r.Name, r.Cache, r.Compress)
	}
}
