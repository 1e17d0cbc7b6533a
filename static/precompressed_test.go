package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/gatehouse-proxy/gatehouse/middleware/compress"
)

var appJS = strings.Repeat("function add(a, b) { return a + b; }\n", 200)

// encode compresses s in content coding c.
func encode(t testing.TB, c, s string) string {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch c {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "br":
		w = brotli.NewWriter(&b)
	case "zstd":
		e, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w = e
	}
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// precompressedTree is the fixture with siblings added: app.js has all
// three, style.css a gzip one, stale.txt a brotli one older than itself
// (and a fresh gzip one), dirsib.txt a directory named like a sibling,
// out.txt a sibling linking outside the root, logo.png (not a type
// worth compressing) a gzip one, README2 (no extension) and
// docs/index.html a gzip and a brotli one.
func precompressedTree(t *testing.T) (tree, map[string]string) {
	tr := newTree(t)
	files := map[string]string{
		"app.js":                appJS,
		"app.js.zst":            encode(t, "zstd", appJS),
		"app.js.br":             encode(t, "br", appJS),
		"app.js.gz":             encode(t, "gzip", appJS),
		"style.css.gz":          encode(t, "gzip", "body{}"),
		"stale.txt":             "new text",
		"stale.txt.br":          encode(t, "br", "old text"),
		"stale.txt.gz":          encode(t, "gzip", "new text"),
		"dirsib.txt":            "plain",
		"dirsib.txt.gz/x":       "not a sibling",
		"out.txt":               "inside",
		"README2":               "plain words, no extension\n",
		"README2.gz":            encode(t, "gzip", "plain words, no extension\n"),
		"docs/index.html.br":    encode(t, "br", "<h1>docs</h1>"),
		"plain.txt":             "no siblings",
		"docs/other.html":       "<p>x</p>",
		"docs/other.html.gz.gz": "only a sibling's sibling",
		"logo.png.gz":           encode(t, "gzip", pngBytes),
	}
	for name, body := range files {
		writeFile(t, filepath.Join(tr.root, name), body)
	}
	older := fixedMtime.Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(tr.root, "stale.txt.br"), older, older); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tr.base, "secret.txt"), filepath.Join(tr.root, "out.txt.gz")); err != nil {
		t.Fatal(err)
	}
	return tr, files
}

// plainClient never asks for gzip or decodes by itself.
func plainClient(t *testing.T) *http.Client {
	tp := &http.Transport{DisableCompression: true}
	t.Cleanup(tp.CloseIdleConnections)
	return &http.Client{Transport: tp}
}

func get(t *testing.T, c *http.Client, srv *httptest.Server, method, path string, hdr ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResult(t, resp)
}

func TestPrecompressed(t *testing.T) {
	tr, files := precompressedTree(t)
	srv := serve(t, tr, Options{Index: "index.html", CacheControl: "max-age=60"})
	c := plainClient(t)
	identity := get(t, c, srv, "GET", "/app.js")
	tests := []struct {
		name, path string
		hdr        []string // request header pairs
		coding     string   // Content-Encoding expected, "" for the file itself
		vary       bool
	}{
		{"browser", "/app.js", []string{"Accept-Encoding", "gzip, deflate, br, zstd"}, "zstd", true},
		{"q-values", "/app.js", []string{"Accept-Encoding", "zstd;q=0.5, br;q=1, gzip;q=0.8"}, "br", true},
		{"gzip only", "/app.js", []string{"Accept-Encoding", "gzip"}, "gzip", true},
		{"two field lines", "/app.js", []string{"Accept-Encoding", "zstd;q=0", "Accept-Encoding", "br;q=0.2, gzip;q=0.1"}, "br", true},
		{"refused", "/app.js", []string{"Accept-Encoding", "*;q=0, identity"}, "", true},
		{"none accepted", "/app.js", []string{"Accept-Encoding", "deflate"}, "", true},
		{"no Accept-Encoding", "/app.js", nil, "", true},
		{"only gzip present", "/style.css", []string{"Accept-Encoding", "zstd, br, gzip"}, "gzip", true},
		{"absent coding, identity varies", "/style.css", []string{"Accept-Encoding", "br"}, "", true},
		{"stale sibling skipped", "/stale.txt", []string{"Accept-Encoding", "br;q=1, gzip;q=0.5"}, "gzip", true},
		{"only stale sibling acceptable", "/stale.txt", []string{"Accept-Encoding", "br"}, "", true},
		{"directory is no sibling", "/dirsib.txt", []string{"Accept-Encoding", "gzip"}, "", false},
		{"link outside is no sibling", "/out.txt", []string{"Accept-Encoding", "gzip"}, "", false},
		{"no siblings", "/plain.txt", []string{"Accept-Encoding", "gzip, br, zstd"}, "", false},
		{"sibling's sibling is not one", "/docs/other.html", []string{"Accept-Encoding", "gzip"}, "", false},
		{"not a compressible type", "/logo.png", []string{"Accept-Encoding", "gzip"}, "", false},
		{"index", "/docs/", []string{"Accept-Encoding", "br"}, "br", true},
		{"no extension", "/README2", []string{"Accept-Encoding", "gzip"}, "gzip", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, c, srv, "GET", tc.path, tc.hdr...)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			if got := r.header.Get("Content-Encoding"); got != tc.coding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.coding)
			}
			plain := get(t, c, srv, "GET", tc.path) // the file itself, for comparison
			if got := r.header.Values("Vary"); (len(got) == 1 && got[0] == "Accept-Encoding") != tc.vary {
				t.Errorf("Vary %q, want Accept-Encoding: %v", got, tc.vary)
			}
			if got, want := r.header.Get("Content-Type"), plain.header.Get("Content-Type"); got != want || got == "" {
				t.Errorf("Content-Type %q, the file's is %q", got, want)
			}
			if r.header.Get("Cache-Control") != "max-age=60" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
			if tc.coding == "" {
				if r.body != plain.body || r.header.Get("Etag") != plain.header.Get("Etag") {
					t.Error("not the file itself")
				}
				return
			}
			rel := strings.TrimPrefix(tc.path, "/")
			if strings.HasSuffix(rel, "/") || rel == "" {
				rel += "index.html"
			}
			want := files[rel+map[string]string{"zstd": ".zst", "br": ".br", "gzip": ".gz"}[tc.coding]]
			if r.body != want {
				t.Errorf("body is not the sibling's bytes (%d bytes, want %d)", len(r.body), len(want))
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(want)) {
				t.Errorf("Content-Length %q, want %d", got, len(want))
			}
			if et := r.header.Get("Etag"); et == plain.header.Get("Etag") || !strings.HasPrefix(et, `"`) || !strings.HasSuffix(et, `-`+tc.coding+`"`) {
				t.Errorf("ETag %q, the file's is %q", et, plain.header.Get("Etag"))
			}
			if ar := r.header.Get("Accept-Ranges"); ar != "" {
				t.Errorf("Accept-Ranges %q on an encoded body", ar)
			}
		})
	}
	if identity.header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("the file itself lost Accept-Ranges: %v", identity.header)
	}
}

// TestPrecompressedRange: a range is always of the file itself.
func TestPrecompressedRange(t *testing.T) {
	tr, _ := precompressedTree(t)
	srv := serve(t, tr, Options{})
	c := plainClient(t)
	r := get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "br, gzip, zstd", "Range", "bytes=9-11")
	if r.status != http.StatusPartialContent || r.body != appJS[9:12] || r.header.Get("Content-Encoding") != "" {
		t.Fatalf("%d %q %v", r.status, r.body, r.header)
	}
	if want := "bytes 9-11/" + strconv.Itoa(len(appJS)); r.header.Get("Content-Range") != want {
		t.Errorf("Content-Range %q, want %q", r.header.Get("Content-Range"), want)
	}
	// A unit other than bytes is ignored (the whole file); the
	// sibling may then be served.
	r = get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "gzip", "Range", "items=1-2")
	if r.status != http.StatusOK || r.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Range items: %d %v", r.status, r.header)
	}
}

// TestPrecompressedConditional: the sibling's tag revalidates the
// sibling; the file's tag does not match it.
func TestPrecompressedConditional(t *testing.T) {
	tr, files := precompressedTree(t)
	srv := serve(t, tr, Options{})
	c := plainClient(t)
	br := get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "br")
	plain := get(t, c, srv, "GET", "/app.js")
	r := get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "br", "If-None-Match", br.header.Get("Etag"))
	if r.status != http.StatusNotModified || r.header.Get("Etag") != br.header.Get("Etag") {
		t.Errorf("revalidating the sibling: %d %v", r.status, r.header)
	}
	r = get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "br", "If-None-Match", plain.header.Get("Etag"))
	if r.status != http.StatusOK || r.body != files["app.js.br"] {
		t.Errorf("the file's tag matched the sibling: %d", r.status)
	}
	r = get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "br", "If-Modified-Since", br.header.Get("Last-Modified"))
	if r.status != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", r.status)
	}
	r = get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "br", "If-Match", `"other"`)
	if r.status != http.StatusPreconditionFailed || r.body == files["app.js.br"] {
		t.Errorf("If-Match: %d", r.status)
	}
}

// TestPrecompressedHead: HEAD has the header GET has.
func TestPrecompressedHead(t *testing.T) {
	tr, files := precompressedTree(t)
	srv := serve(t, tr, Options{})
	c := plainClient(t)
	r := get(t, c, srv, "HEAD", "/app.js", "Accept-Encoding", "zstd")
	if r.status != http.StatusOK || r.body != "" || r.header.Get("Content-Encoding") != "zstd" ||
		r.header.Get("Content-Length") != strconv.Itoa(len(files["app.js.zst"])) {
		t.Errorf("HEAD: %d %q %v", r.status, r.body, r.header)
	}
}

func TestNoPrecompressed(t *testing.T) {
	tr, _ := precompressedTree(t)
	srv := serve(t, tr, Options{NoPrecompressed: true})
	r := get(t, plainClient(t), srv, "GET", "/app.js", "Accept-Encoding", "gzip, br, zstd")
	if r.body != appJS || r.header.Get("Content-Encoding") != "" || r.header.Get("Vary") != "" {
		t.Errorf("sibling served with NoPrecompressed: %v", r.header)
	}
}

// TestPrecompressedBehindCompress: through the compress middleware, a
// sibling is sent as it is (never encoded twice) and a file without one
// is compressed on the fly.
func TestPrecompressedBehindCompress(t *testing.T) {
	tr, files := precompressedTree(t)
	h, err := New(Options{Root: tr.root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	mw, err := compress.New(compress.Options{MinBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(h))
	t.Cleanup(srv.Close)
	c := plainClient(t)

	r := get(t, c, srv, "GET", "/app.js", "Accept-Encoding", "br")
	if r.body != files["app.js.br"] || r.header.Values("Content-Encoding")[0] != "br" || len(r.header.Values("Content-Encoding")) != 1 {
		t.Errorf("sibling through compress: %v", r.header)
	}
	if v := r.header.Values("Vary"); len(v) != 1 {
		t.Errorf("Vary %q", v)
	}
	r = get(t, c, srv, "GET", "/plain.txt", "Accept-Encoding", "gzip")
	if r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("file without a sibling not compressed: %v", r.header)
	}
	zr, err := gzip.NewReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != "no siblings" {
		t.Errorf("decoded %q", b)
	}
}
