package static

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestIndex(t *testing.T) {
	tr := newTree(t)
	tests := []struct {
		name   string
		o      Options
		path   string
		status int
		body   string
	}{
		{"root index", Options{Index: "index.html"}, "/", 200, "<h1>home</h1>"},
		{"sub index", Options{Index: "index.html"}, "/docs/", 200, "<h1>docs</h1>"},
		{"index through link", Options{Index: "index.html"}, "/link-dir-in/", 200, "<h1>docs</h1>"},
		{"no index no browse", Options{Index: "index.html"}, "/sub/", 404, "404 not found\n"},
		{"index disabled", Options{}, "/", 404, "404 not found\n"},
		{"index is a directory", Options{Index: "index.htm"}, "/sub/", 404, "404 not found\n"},
		{"index is a directory, browse", Options{Index: "index.htm", Browse: true}, "/sub/", 200, ""},
		{"index wins over browse", Options{Index: "index.html", Browse: true}, "/docs/", 200, "<h1>docs</h1>"},
		{"index file requested directly", Options{Index: "index.html"}, "/docs/index.html", 200, "<h1>docs</h1>"},
		{"file with trailing slash", Options{Index: "index.html"}, "/digits.txt/", 404, "404 not found\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, serve(t, tr, tc.o), "GET", tc.path)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.body != "" && r.body != tc.body {
				t.Errorf("body %q, want %q", r.body, tc.body)
			}
		})
	}
}

func TestDirRedirect(t *testing.T) {
	tr := newTree(t)
	writeFile(t, filepath.Join(tr.root, "a dir", "f.txt"), "f")
	srv := serve(t, tr, Options{Index: "index.html", Browse: true})
	tests := []struct{ path, loc string }{
		{"/sub", "./sub/"},
		{"/sub?a=1&b=two", "./sub/?a=1&b=two"},
		{"/sub?", "./sub/"},
		{"/sub/zdir", "./zdir/"},
		{"/docs", "./docs/"},
		{"/link-dir-in", "./link-dir-in/"},
		{"/.well-known", "./.well-known/"},
		{"/a%20dir?q=%2F", "./a%20dir/?q=%2F"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := do(t, srv, "GET", tc.path)
			if r.status != http.StatusMovedPermanently || r.header.Get("Location") != tc.loc {
				t.Errorf("status %d Location %q, want 301 %q", r.status, r.header.Get("Location"), tc.loc)
			}
		})
	}
	t.Run("followed", func(t *testing.T) {
		resp, err := srv.Client().Get(srv.URL + "/sub/zdir?x=1&y=%20")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if u := resp.Request.URL; resp.StatusCode != 200 || u.Path != "/sub/zdir/" || u.RawQuery != "x=1&y=%20" {
			t.Errorf("ended at %d %s, want 200 /sub/zdir/?x=1&y=%%20", resp.StatusCode, u)
		}
	})
}

// TestPathOption mounts the root under a prefix the caller strips.
func TestPathOption(t *testing.T) {
	strip := func(r *http.Request) string { return strings.TrimPrefix(r.URL.EscapedPath(), "/static") }
	srv := serve(t, newTree(t), Options{Index: "index.html", Browse: true, Path: strip})
	tests := []struct {
		path   string
		status int
		want   string // Location for 301, body substring otherwise
	}{
		{"/static", 301, "./static/"},
		{"/static?v=2", 301, "./static/?v=2"},
		{"/static/", 200, "<h1>home</h1>"},
		{"/static/digits.txt", 200, digits},
		{"/static/sub", 301, "./sub/"},
		{"/static/sub/", 200, "Index of /static/sub/"},
		{"/static/../secret.txt", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := raw(t, srv, tc.path)
			got := r.body
			if tc.status == 301 {
				got = r.header.Get("Location")
			}
			if r.status != tc.status || !strings.Contains(got, tc.want) {
				t.Errorf("got %d %q, want %d %q", r.status, got, tc.status, tc.want)
			}
		})
	}
	t.Run("followed", func(t *testing.T) {
		resp, err := srv.Client().Get(srv.URL + "/static?v=2")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if u := resp.Request.URL; resp.StatusCode != 200 || u.Path != "/static/" || u.RawQuery != "v=2" {
			t.Errorf("ended at %d %s, want 200 /static/?v=2", resp.StatusCode, u)
		}
	})
	t.Run("no redirect loop", func(t *testing.T) {
		empty := func(*http.Request) string { return "" }
		srv := serve(t, newTree(t), Options{Browse: true, Path: empty})
		if r := do(t, srv, "GET", "/"); r.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.status)
		}
	})
}

var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// hrefs returns the unescaped link targets of a listing, in order.
func hrefs(body string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestBrowse(t *testing.T) {
	tr := newTree(t)
	dir := filepath.Join(tr.root, "browse")
	files := []string{"a b.txt", `<b>&"x'.txt`, "100%.txt", "q?.txt", "h#.txt", "c:d.txt", "café.txt", "+plus.txt"}
	for _, f := range files {
		writeFile(t, filepath.Join(dir, f), "content of "+f)
	}
	for _, f := range []string{"zz-dir/f", "aa-dir/f", ".dotdir/f", ".dot", `back\slash`, "new\nline"} {
		writeFile(t, filepath.Join(dir, f), "DOTFILE-SECRET")
	}
	for name, dest := range map[string]string{"out": "../../secret.txt", "outdir": "../../outside", "in": "a b.txt", "dangling": "nope"} {
		if err := os.Symlink(dest, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	srv := serve(t, tr, Options{Browse: true})
	r := do(t, srv, "GET", "/browse/")
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	wantFiles := append(slices.Clone(files), "in")
	slices.Sort(wantFiles)
	want := []string{"../", "./aa-dir/", "./zz-dir/"}
	for _, f := range wantFiles {
		want = append(want, "./"+url.PathEscape(f))
	}
	if got := hrefs(r.body); !slices.Equal(got, want) {
		t.Errorf("links\n got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"<b>", `"x'`, "dot", "SECRET", "outdir", "dangling", "back", "line", tr.base} {
		if strings.Contains(r.body, bad) {
			t.Errorf("listing contains %q", bad)
		}
	}
	for _, s := range []string{"&lt;b&gt;&amp;&#34;x&#39;.txt</a>", "a b.txt</a></td><td>18</td>", "2024-01-02 03:04:05", "<td>-</td>"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("listing lacks %q", s)
		}
	}
	t.Run("links resolve", func(t *testing.T) {
		base, _ := url.Parse(srv.URL + "/browse/")
		for _, h := range hrefs(r.body) {
			ref, err := url.Parse(h)
			if err != nil {
				t.Fatalf("href %q: %v", h, err)
			}
			u := base.ResolveReference(ref)
			got := do(t, srv, "GET", u.RequestURI())
			if got.status != 200 {
				t.Errorf("%q -> %s: status %d", h, u.RequestURI(), got.status)
			}
			if name, _ := url.PathUnescape(strings.TrimPrefix(h, "./")); slices.Contains(files, name) && got.body != "content of "+name {
				t.Errorf("%q: body %q", h, got.body)
			}
		}
	})
}

func TestBrowseRoot(t *testing.T) {
	tr := newTree(t)
	tests := []struct {
		name    string
		o       Options
		status  int
		present []string
		absent  []string
	}{
		{"browse on", Options{Browse: true}, 200,
			[]string{`href="./docs/"`, `href="./link-dir-in/"`, `href="./link-in"`, `href="./digits.txt"`, "Index of /"},
			[]string{`href="../"`, ".well-known", ".env", ".git", "link-out", "link-abs", "SECRET"}},
		{"browse off", Options{}, 404, []string{"404 not found"}, []string{"docs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, serve(t, tr, tc.o), "GET", "/")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			for _, s := range tc.present {
				if !strings.Contains(r.body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(r.body, s) {
					t.Errorf("body contains %q", s)
				}
			}
		})
	}
}

// A route prefix stripped to "/" still names a directory: "/assets" must
// redirect to "/assets/" (as a subdirectory would), or the index's
// relative links resolve against the parent.
func TestDirRedirectAtStrippedPrefix(t *testing.T) {
	tr := newTree(t)
	strip := func(r *http.Request) string {
		p := strings.TrimPrefix(r.URL.EscapedPath(), "/assets")
		if p == "" {
			p = "/"
		}
		return p
	}
	srv := serve(t, tr, Options{Index: "index.html", Path: strip})
	r := do(t, srv, "GET", "/assets?v=1")
	if r.status != http.StatusMovedPermanently || r.header.Get("Location") != "./assets/?v=1" {
		t.Fatalf("GET /assets: status %d Location %q, want 301 ./assets/?v=1", r.status, r.header.Get("Location"))
	}
	if r := do(t, srv, "GET", "/assets/"); r.status != 200 || r.body != "<h1>home</h1>" {
		t.Errorf("GET /assets/: %d %q, want the index", r.status, r.body)
	}
}
