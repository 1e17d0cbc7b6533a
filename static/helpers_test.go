package static

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixedMtime is the modification time of every fixture file.
var fixedMtime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	secretText = "TOP-SECRET-OUTSIDE-ROOT"
	digits     = "0123456789abcdefghijklmnopqrstuvwxyz"
	pngBytes   = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	wasmBytes  = "\x00asm\x01\x00\x00\x00"
)

// tree is the fixture: base holds the served directory "root" next to a
// secret file and directory that must never be reachable.
type tree struct {
	base, root string
}

// newTree builds the fixture under a fresh temporary directory.
func newTree(t testing.TB) tree {
	t.Helper()
	base := t.TempDir()
	tr := tree{base: base, root: filepath.Join(base, "root")}
	files := map[string]string{
		"secret.txt":                    secretText,
		"outside/inner.txt":             secretText + "-DIR",
		"root/index.html":               "<h1>home</h1>",
		"root/style.css":                "body{}",
		"root/app.js":                   "let a = 1;",
		"root/logo.png":                 pngBytes,
		"root/icon.svg":                 `<svg xmlns="http://www.w3.org/2000/svg"/>`,
		"root/data.json":                `{"a":1}`,
		"root/mod.wasm":                 wasmBytes,
		"root/README":                   "plain words, no extension\n",
		"root/blob":                     "\x00\x01\x02\x03binary",
		"root/digits.txt":               digits,
		"root/empty.txt":                "",
		"root/.env":                     "DOTFILE-SECRET",
		"root/.git/config":              "DOTFILE-SECRET",
		"root/.well-known/security.txt": "Contact: security@example.com",
		"root/.well-known/.hidden":      "DOTFILE-SECRET",
		"root/docs/index.html":          "<h1>docs</h1>",
		"root/a/b.txt":                  "b",
		"root/sub/b.txt":                "bb",
		"root/sub/a.txt":                "a",
		"root/sub/.hidden":              "DOTFILE-SECRET",
		"root/sub/zdir/x.txt":           "x",
		"root/sub/adir/y.txt":           "y",
		"root/sub/index.htm/z.txt":      "z",
	}
	for name, body := range files {
		writeFile(t, filepath.Join(base, name), body)
	}
	links := map[string]string{
		"root/link-in":      "digits.txt",
		"root/link-dir-in":  "docs",
		"root/link-out":     "../secret.txt",
		"root/link-outdir":  "../outside",
		"root/link-abs":     filepath.Join(base, "secret.txt"),
		"root/link-absdir":  filepath.Join(base, "outside"),
		"root/sub/link-up":  "../../secret.txt",
		"root/sub/link-a":   "../a/b.txt",
		"root/sub/link-bad": "missing",
	}
	for name, dest := range links {
		if err := os.Symlink(dest, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// writeFile creates a file and its parents with the fixed mtime.
func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fixedMtime, fixedMtime); err != nil {
		t.Fatal(err)
	}
}

// serve starts a loopback server for a Handler on the fixture.
func serve(t *testing.T, tr tree, o Options) *httptest.Server {
	t.Helper()
	o.Root = tr.root
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// result is a response with its body read.
type result struct {
	status int
	header http.Header
	body   string
}

// do sends a request with a real client that does not follow redirects.
// hdr is a list of name, value pairs.
func do(t *testing.T, srv *httptest.Server, method, path string, hdr ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := *srv.Client() // shared by the server; copy before changing it
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResult(t, resp)
}

// raw writes target verbatim in the request line, bypassing any client-side
// path cleaning.
func raw(t *testing.T, srv *httptest.Server, target string) result {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + target + " HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	return readResult(t, resp)
}

func readResult(t *testing.T, resp *http.Response) result {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// leaks reports whether a response shows anything it must not: secret
// content or a file-system path.
func (tr tree) leaks(r result) bool {
	s := r.body + strings.Join(r.header.Values("Location"), " ")
	return strings.Contains(s, "SECRET") || strings.Contains(s, tr.base)
}
