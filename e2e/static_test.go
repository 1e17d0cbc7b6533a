package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

const secret = "TOP-SECRET-CONTENT"

// staticSite lays out dir/public (the served root, with a symlink leading
// out of it) next to dir/secret.txt and dir/public-secret/secret.txt, and
// starts Gatehouse serving /assets from the root with "/" answered by a
// fixed response.
func staticSite(t *testing.T) *testkit.Gatehouse {
	t.Helper()
	dir := assetsDir(t, map[string]string{
		"public/app.js":             "0123456789abcdefghij",
		"public/docs/index.html":    "<h1>docs</h1>",
		"public/.env":               secret,
		"secret.txt":                secret,
		"public-secret/secret.txt":  secret,
		"public/a b/file name.txt":  "spaced",
		"public/.well-known/x.json": "{}",
	})
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(dir, "public", "link.txt")); err != nil {
		t.Fatal(err)
	}
	return testkit.Start(t, `
routes:
  - name: assets
    match: {path: /assets}
    static: {root: "${ROOT}", cache_control: "public, max-age=60"}
    rewrite: {strip_prefix: /assets}
  - {name: app, match: {path: /}, respond: {body: app}}
`, testkit.Vars{"ROOT": filepath.Join(dir, "public")})
}

func TestStatic(t *testing.T) {
	t.Parallel()
	g := staticSite(t)

	t.Run("file", func(t *testing.T) {
		res, body := g.Get("/assets/app.js")
		if res.StatusCode != 200 || body != "0123456789abcdefghij" {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
		if res.Header.Get("Cache-Control") != "public, max-age=60" || res.Header.Get("Etag") == "" ||
			!strings.Contains(res.Header.Get("Content-Type"), "javascript") {
			t.Errorf("header %v", res.Header)
		}
	})
	t.Run("range", func(t *testing.T) {
		res, body := g.Get("/assets/app.js", "Range", "bytes=5-9")
		if res.StatusCode != http.StatusPartialContent || body != "56789" || res.Header.Get("Content-Range") != "bytes 5-9/20" {
			t.Errorf("got %d %q Content-Range %q", res.StatusCode, body, res.Header.Get("Content-Range"))
		}
		res, _ = g.Get("/assets/app.js", "Range", "bytes=50-60")
		if res.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("unsatisfiable range: %d", res.StatusCode)
		}
	})
	t.Run("if-none-match", func(t *testing.T) {
		res, _ := g.Get("/assets/app.js")
		etag := res.Header.Get("Etag")
		res, body := g.Get("/assets/app.js", "If-None-Match", etag)
		if res.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("If-None-Match %s: %d %q", etag, res.StatusCode, body)
		}
		res, _ = g.Get("/assets/app.js", "If-None-Match", `"other"`)
		if res.StatusCode != 200 {
			t.Errorf("If-None-Match other: %d", res.StatusCode)
		}
	})
	t.Run("index and directory redirect", func(t *testing.T) {
		res, body := g.Get("/assets/docs/")
		if res.StatusCode != 200 || body != "<h1>docs</h1>" {
			t.Errorf("index: %d %q", res.StatusCode, body)
		}
		res, _ = g.Get("/assets/docs?x=1")
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "./docs/?x=1" {
			t.Errorf("directory: %d Location %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	t.Run("escaped name", func(t *testing.T) {
		res, body := g.Get("/assets/a%20b/file%20name.txt")
		if res.StatusCode != 200 || body != "spaced" {
			t.Errorf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("HEAD and POST", func(t *testing.T) {
		res, body := g.Do(g.NewRequest(http.MethodHead, "/assets/app.js", nil))
		if res.StatusCode != 200 || body != "" || res.Header.Get("Content-Length") != "20" {
			t.Errorf("HEAD: %d %q %v", res.StatusCode, body, res.Header)
		}
		res, _ = g.Do(g.NewRequest(http.MethodPost, "/assets/app.js", strings.NewReader("x")))
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d", res.StatusCode)
		}
	})
}

// TestStaticTraversal tries to read files next to the served root. Raw
// request lines keep the dots and escapes exactly as written.
func TestStaticTraversal(t *testing.T) {
	t.Parallel()
	g := staticSite(t)

	cases := []struct {
		target string
		want   int
	}{
		// Dot segments are resolved before routing: these leave /assets and
		// land on the "/" route, whose fixed answer leaks nothing.
		{"/assets/../secret.txt", 200},
		{"/assets/../../etc/passwd", 200},
		{"/assets/%2e%2e/%2e%2e/etc/passwd", 200},
		{"/assets/%2E%2E/secret.txt", 200},
		{"/assets/.%2e/secret.txt", 200},
		// Inside the route nothing may climb out either.
		{"/assets/..%2Fsecret.txt", 400},
		{"/assets/%2e%2e%2fsecret.txt", 400},
		{"/assets/%2e%2e%2F%2e%2e%2Fsecret.txt", 400},
		{"/assets/..%5Csecret.txt", 400},
		{"/assets/..\\secret.txt", 400},
		{"/assets/%2e%2e%5c%2e%2e%5csecret.txt", 400},
		{"/assets/%00../secret.txt", 400},
		{"/assets/link.txt", 404},
		{"/assets/.env", 404},
		{"/assets/.well-known/../.env", 404},
		{"/assets/../public-secret/secret.txt", 200},
		{"/assets-secret/secret.txt", 200}, // not the /assets route at all
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			res, body := testkit.RoundTrip(t, g.Addr, "GET "+tc.target+" HTTP/1.1\nHost: x\n\n")
			if strings.Contains(body, secret) {
				t.Fatalf("GET %s leaked the secret: %d %q", tc.target, res.StatusCode, body)
			}
			if res.StatusCode != tc.want {
				t.Errorf("GET %s: %d %q, want %d", tc.target, res.StatusCode, body, tc.want)
			}
			if res.StatusCode == 200 && body != "app" {
				t.Errorf("GET %s: 200 %q, want the / route's answer", tc.target, body)
			}
		})
	}
}
