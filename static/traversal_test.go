package static

import (
	"net/http"
	"testing"
)

// TestTraversal sends each attack verbatim on the request line and checks
// that it is refused with 400 or 404 and shows neither the secret next to
// the root nor a file-system path.
func TestTraversal(t *testing.T) {
	tr := newTree(t)
	srv := serve(t, tr, Options{Index: "index.html", Browse: true})
	tests := []struct {
		target string
		status int
	}{
		{"/../secret.txt", 404},
		{"/..", 404},
		{"/../", 404},
		{"/%2e%2e/secret.txt", 404},
		{"/%2E%2E/secret.txt", 404},
		{"/.%2e/secret.txt", 404},
		{"/%2e./secret.txt", 404},
		{"/a/../../secret.txt", 404},
		{"/a/%2e%2e/%2e%2e/secret.txt", 404},
		{"/sub/./../../secret.txt", 404},
		{"/..%2fsecret.txt", 400},
		{"/..%2Fsecret.txt", 400},
		{"/%2e%2e%2fsecret.txt", 400},
		{"/a%2f..%2f..%2fsecret.txt", 400},
		{`/..\secret.txt`, 400},
		{"/..%5csecret.txt", 400},
		{"/%252e%252e/secret.txt", 404}, // decodes once, to a literal "%2e%2e"
		{"/..;/secret.txt", 404},
		{"/....//secret.txt", 404},
		{"/secret.txt%00.html", 400},
		{"/%00", 400},
		{"/link-out", 404},
		{"/link-outdir", 404},
		{"/link-outdir/", 404},
		{"/link-outdir/inner.txt", 404},
		{"/link-abs", 404},
		{"/link-absdir/inner.txt", 404},
		{"/sub/link-up", 404},
		{"//secret.txt", 404},
		{"///etc/passwd", 404},
		{"/%2fetc%2fpasswd", 400},
		{"/%2F" + tr.base[1:] + "/secret.txt", 400},
		{tr.base + "/secret.txt", 404},
		{"/" + tr.base + "/secret.txt", 404},
		{"http://example.com/../secret.txt", 404},
		{"http://example.com/%2e%2e/secret.txt", 404},
		{"/C:/Windows/win.ini", 404},
		{"/c:%5cboot.ini", 400},
		{"/~/secret.txt", 404},
		{"*", 400},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			r := raw(t, srv, tc.target)
			if r.status != tc.status {
				t.Errorf("status %d, want %d", r.status, tc.status)
			}
			if tr.leaks(r) {
				t.Errorf("response leaks: %q", r.body)
			}
		})
	}
}

func TestDotfiles(t *testing.T) {
	tr := newTree(t)
	srv := serve(t, tr, Options{Index: "index.html", Browse: true})
	missing := raw(t, srv, "/.nonexistent")
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/.env", 404, ""},
		{"/%2eenv", 404, ""},
		{"/.git", 404, ""},
		{"/.git/", 404, ""},
		{"/.git/config", 404, ""},
		{"/sub/.hidden", 404, ""},
		{"/.well-known/.hidden", 404, ""},
		{"/.well-known/security.txt", 200, "Contact: security@example.com"},
		{"/%2ewell-known/security.txt", 200, "Contact: security@example.com"},
		{"/.well-known/", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			r := raw(t, srv, tc.target)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.body != "" && r.body != tc.body {
				t.Errorf("body %q, want %q", r.body, tc.body)
			}
			if tc.status != 404 {
				return
			}
			// An existing dotfile must look exactly like a missing one.
			if r.body != missing.body || r.header.Get("Content-Length") != missing.header.Get("Content-Length") ||
				r.header.Get("Content-Type") != missing.header.Get("Content-Type") {
				t.Errorf("404 differs from a missing name's: %q %v vs %q %v", r.body, r.header, missing.body, missing.header)
			}
		})
	}
}

func TestSymlinksInside(t *testing.T) {
	srv := serve(t, newTree(t), Options{Index: "index.html"})
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/link-in", 200, digits},
		{"/link-dir-in/index.html", 200, "<h1>docs</h1>"},
		{"/link-dir-in/", 200, "<h1>docs</h1>"},
		{"/sub/link-a", 200, "b"},
		{"/sub/link-bad", 404, "404 not found\n"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := do(t, srv, http.MethodGet, tc.path)
			if r.status != tc.status || r.body != tc.body {
				t.Errorf("got %d %q, want %d %q", r.status, r.body, tc.status, tc.body)
			}
		})
	}
}
