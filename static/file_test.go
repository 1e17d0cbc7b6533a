package static

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestContentType(t *testing.T) {
	srv := serve(t, newTree(t), Options{Index: "index.html"})
	tests := []struct {
		path, want string
	}{
		{"/index.html", "text/html; charset=utf-8"},
		{"/style.css", "text/css; charset=utf-8"},
		{"/app.js", "text/javascript; charset=utf-8"},
		{"/logo.png", "image/png"},
		{"/icon.svg", "image/svg+xml"},
		{"/data.json", "application/json"},
		{"/mod.wasm", "application/wasm"},
		{"/README", "text/plain; charset=utf-8"},  // sniffed
		{"/blob", "application/octet-stream"},     // sniffed
		{"/", "text/html; charset=utf-8"},         // index
		{"/link-in", "text/plain; charset=utf-8"}, // sniffed through the link
		{"/empty.txt", "text/plain; charset=utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := do(t, srv, "GET", tc.path)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200", r.status)
			}
			got := r.header.Get("Content-Type")
			if got != tc.want {
				// The system MIME tables may override Go's built-in ones;
				// then at least agree with the mime package.
				ext := tc.path[strings.LastIndexByte(tc.path, '.')+1:]
				if sys := mime.TypeByExtension("." + ext); sys == "" || got != sys {
					t.Errorf("Content-Type %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestValidators(t *testing.T) {
	srv := serve(t, newTree(t), Options{CacheControl: "public, max-age=60"})
	r := do(t, srv, "GET", "/digits.txt")
	wantTag := `"` + strconv.FormatInt(fixedMtime.UnixNano(), 16) + "-" + strconv.FormatInt(int64(len(digits)), 16) + `"`
	checks := map[string]string{
		"Etag":           wantTag,
		"Last-Modified":  fixedMtime.Format(http.TimeFormat),
		"Cache-Control":  "public, max-age=60",
		"Accept-Ranges":  "bytes",
		"Content-Length": strconv.Itoa(len(digits)),
	}
	for k, want := range checks {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if r.body != digits {
		t.Errorf("body %q, want %q", r.body, digits)
	}
	if e := do(t, srv, "GET", "/nope.txt"); e.header.Get("Cache-Control") != "" {
		t.Errorf("404 carries Cache-Control %q", e.header.Get("Cache-Control"))
	}
}

func TestConditional(t *testing.T) {
	srv := serve(t, newTree(t), Options{})
	tag := do(t, srv, "GET", "/digits.txt").header.Get("Etag")
	lastMod := fixedMtime.Format(http.TimeFormat)
	before := fixedMtime.Add(-time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name   string
		hdr    []string
		status int
		body   string
	}{
		{"If-None-Match match", []string{"If-None-Match", tag}, 304, ""},
		{"If-None-Match list", []string{"If-None-Match", `"x", ` + tag}, 304, ""},
		{"If-None-Match weak", []string{"If-None-Match", "W/" + tag}, 304, ""},
		{"If-None-Match star", []string{"If-None-Match", "*"}, 304, ""},
		{"If-None-Match stale", []string{"If-None-Match", `"stale"`}, 200, digits},
		{"If-Modified-Since same", []string{"If-Modified-Since", lastMod}, 304, ""},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", before}, 200, digits},
		{"If-None-Match wins over If-Modified-Since", []string{"If-None-Match", `"stale"`, "If-Modified-Since", lastMod}, 200, digits},
		{"If-Match match", []string{"If-Match", tag}, 200, digits},
		{"If-Match stale", []string{"If-Match", `"stale"`}, 412, ""},
		{"If-Match weak never matches", []string{"If-Match", "W/" + tag}, 412, ""},
		{"If-Unmodified-Since earlier", []string{"If-Unmodified-Since", before}, 412, ""},
		{"If-Unmodified-Since same", []string{"If-Unmodified-Since", lastMod}, 200, digits},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", "/digits.txt", tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.status != 412 && r.body != tc.body {
				t.Errorf("body %q, want %q", r.body, tc.body)
			}
			if r.status == 304 && r.header.Get("Etag") != tag {
				t.Errorf("304 Etag %q, want %q", r.header.Get("Etag"), tag)
			}
		})
	}
}

func TestRange(t *testing.T) {
	srv := serve(t, newTree(t), Options{})
	tag := do(t, srv, "GET", "/digits.txt").header.Get("Etag")
	n := strconv.Itoa(len(digits))
	tests := []struct {
		name         string
		hdr          []string
		status       int
		body, cRange string
	}{
		{"single", []string{"Range", "bytes=2-5"}, 206, "2345", "bytes 2-5/" + n},
		{"open end", []string{"Range", "bytes=30-"}, 206, digits[30:], "bytes 30-35/" + n},
		{"suffix", []string{"Range", "bytes=-3"}, 206, "xyz", "bytes 33-35/" + n},
		{"past end clipped", []string{"Range", "bytes=34-99"}, 206, "yz", "bytes 34-35/" + n},
		{"unsatisfiable", []string{"Range", "bytes=100-200"}, 416, "", "bytes */" + n},
		{"malformed ignored", []string{"Range", "lines=1-2"}, 200, digits, ""},
		{"If-Range current", []string{"Range", "bytes=0-1", "If-Range", tag}, 206, "01", "bytes 0-1/" + n},
		{"If-Range stale", []string{"Range", "bytes=0-1", "If-Range", `"stale"`}, 200, digits, ""},
		{"If-Range date", []string{"Range", "bytes=0-1", "If-Range", fixedMtime.Format(http.TimeFormat)}, 206, "01", "bytes 0-1/" + n},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", "/digits.txt", tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.status != 416 && r.body != tc.body {
				t.Errorf("body %q, want %q", r.body, tc.body)
			}
			if got := r.header.Get("Content-Range"); got != tc.cRange {
				t.Errorf("Content-Range %q, want %q", got, tc.cRange)
			}
		})
	}
}

func TestMultiRange(t *testing.T) {
	srv := serve(t, newTree(t), Options{})
	r := do(t, srv, "GET", "/digits.txt", "Range", "bytes=0-3,10-13")
	if r.status != http.StatusPartialContent {
		t.Fatalf("status %d, want 206", r.status)
	}
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q (%v), want multipart/byteranges", r.header.Get("Content-Type"), err)
	}
	want := []struct{ body, cRange string }{
		{"0123", "bytes 0-3/36"},
		{"abcd", "bytes 10-13/36"},
	}
	mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
	for i, w := range want {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		b, _ := io.ReadAll(p)
		if string(b) != w.body || p.Header.Get("Content-Range") != w.cRange {
			t.Errorf("part %d = %q %q, want %q %q", i, b, p.Header.Get("Content-Range"), w.body, w.cRange)
		}
		if ct := p.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("part %d Content-Type %q", i, ct)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after last part: %v, want EOF", err)
	}
}

func TestMethods(t *testing.T) {
	srv := serve(t, newTree(t), Options{Index: "index.html", Browse: true})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		for _, p := range []string{"/digits.txt", "/", "/nope"} {
			t.Run(m+p, func(t *testing.T) {
				r := do(t, srv, m, p)
				if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
					t.Errorf("status %d Allow %q, want 405 \"GET, HEAD\"", r.status, r.header.Get("Allow"))
				}
			})
		}
	}
}

func TestHead(t *testing.T) {
	srv := serve(t, newTree(t), Options{Index: "index.html", Browse: true})
	for _, p := range []string{"/digits.txt", "/logo.png", "/", "/sub/"} {
		t.Run(p, func(t *testing.T) {
			get := do(t, srv, "GET", p)
			head := do(t, srv, "HEAD", p)
			if head.status != http.StatusOK || head.body != "" {
				t.Errorf("HEAD: status %d body %q, want 200 and no body", head.status, head.body)
			}
			if cl := head.header.Get("Content-Length"); cl != strconv.Itoa(len(get.body)) {
				t.Errorf("HEAD Content-Length %q, want %d", cl, len(get.body))
			}
			if head.header.Get("Content-Type") != get.header.Get("Content-Type") {
				t.Errorf("HEAD Content-Type %q, GET %q", head.header.Get("Content-Type"), get.header.Get("Content-Type"))
			}
		})
	}
}
