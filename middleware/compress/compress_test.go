package compress

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// page is a handler answering with a fixed response.
type page struct {
	status int
	header []string // name, value pairs, added
	body   []byte
	length bool // send Content-Length
	chunk  int  // write the body in writes of this size; 0 for one write
}

func (p page) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	for i := 0; i+1 < len(p.header); i += 2 {
		w.Header().Add(p.header[i], p.header[i+1])
	}
	if p.length {
		w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
	}
	if p.status != 0 {
		w.WriteHeader(p.status)
	}
	body := p.body
	for len(body) > 0 {
		n := len(body)
		if p.chunk > 0 {
			n = min(n, p.chunk)
		}
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		body = body[n:]
	}
}

const typeJSON = "application/json"

func TestRoundTrip(t *testing.T) {
	body := jsonBody(64 << 10)
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	handlers := map[string]http.Handler{
		"one write with length": page{header: []string{"Content-Type", typeJSON}, body: body, length: true},
		"one write, no length":  page{header: []string{"Content-Type", typeJSON}, body: body},
		"small writes":          page{header: []string{"Content-Type", typeJSON}, body: body, chunk: 100},
		"byte by byte to 2 KiB": page{header: []string{"Content-Type", typeJSON}, body: body[:2048], chunk: 1},
		"explicit 200":          page{status: 200, header: []string{"Content-Type", typeJSON}, body: body},
		"error status":          page{status: 503, header: []string{"Content-Type", typeJSON}, body: body},
		"sniffed type":          page{body: []byte("<!DOCTYPE html><html>" + strings.Repeat("<p>hello</p>", 200))},
		"ReadFrom a file":       readFrom(file, true),
		"ReadFrom, no length":   readFrom(file, false),
		"ReadFrom a bare reader": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", typeJSON)
			io.Copy(w, struct{ io.Reader }{bytes.NewReader(body)})
		}),
	}
	for name, h := range handlers {
		srv := serve(t, Options{}, h)
		want := fetch(t, srv, "GET", "/").raw // no Accept-Encoding: identity
		for _, enc := range all {
			t.Run(name+"/"+enc, func(t *testing.T) {
				r := fetch(t, srv, "GET", "/", "Accept-Encoding", enc)
				if got := r.header.Get("Content-Encoding"); got != enc {
					t.Fatalf("Content-Encoding %q, want %q", got, enc)
				}
				if !bytes.Equal(r.decoded, want) {
					t.Fatalf("decoded body differs: %d bytes, want %d", len(r.decoded), len(want))
				}
				if len(r.raw) >= len(want) {
					t.Errorf("compressed %d bytes to %d", len(want), len(r.raw))
				}
				// net/http sets the length of a short body itself; the
				// identity body's length must be gone.
				if v := r.header.Values("Content-Length"); v != nil && (len(v) != 1 || v[0] != strconv.Itoa(len(r.raw))) {
					t.Errorf("Content-Length %v on a compressed response of %d bytes", v, len(r.raw))
				}
				if v := r.header.Values("Vary"); !slices.Equal(v, []string{"Accept-Encoding"}) {
					t.Errorf("Vary %q", v)
				}
				if v := r.header.Values("Accept-Ranges"); v != nil {
					t.Errorf("Accept-Ranges %q on a compressed response", v)
				}
			})
		}
	}
}

// readFrom serves file through io.Copy, which uses the writer's ReadFrom.
func readFrom(file string, length bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer f.Close()
		fi, _ := f.Stat()
		w.Header().Set("Content-Type", typeJSON)
		if length {
			w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		}
		io.Copy(w, f)
	})
}

func TestNegotiatedOverHTTP(t *testing.T) {
	body := jsonBody(4 << 10)
	srv := serve(t, Options{}, page{header: []string{"Content-Type", typeJSON}, body: body})
	gzipFirst := serve(t, Options{Encodings: []string{"gzip", "br"}}, page{header: []string{"Content-Type", typeJSON}, body: body})
	tests := []struct {
		name string
		ae   []string
		want string
		srv  string
	}{
		{"browser", []string{"gzip, deflate, br, zstd"}, "zstd", ""},
		{"weights", []string{"zstd;q=0.1, br;q=0.9, gzip;q=0.5"}, "br", ""},
		{"star", []string{"*"}, "zstd", ""},
		{"x-gzip", []string{"x-gzip"}, "gzip", ""},
		{"identity", []string{"identity"}, "", ""},
		{"all refused", []string{"*;q=0"}, "", ""},
		{"two field lines", []string{"gzip;q=0.5", "br;q=0.6"}, "br", ""},
		{"server order", []string{"zstd, br, gzip"}, "gzip", "gzip"},
		{"not offered", []string{"zstd"}, "", "gzip"},
		{"none sent", nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := srv
			if tc.srv == "gzip" {
				s = gzipFirst
			}
			var hdr []string
			for _, v := range tc.ae {
				hdr = append(hdr, "Accept-Encoding", v)
			}
			r := fetch(t, s, "GET", "/", hdr...)
			if got := r.header.Get("Content-Encoding"); got != tc.want {
				t.Errorf("Content-Encoding %q, want %q", got, tc.want)
			}
			if !bytes.Equal(r.decoded, body) {
				t.Error("body differs")
			}
			if r.header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary %q", r.header.Values("Vary"))
			}
		})
	}
}

// TestNotCompressed covers each rule that leaves a response as it is.
func TestNotCompressed(t *testing.T) {
	body := jsonBody(8 << 10)
	var br bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write(body)
	bw.Close()
	typed := []string{"Content-Type", typeJSON}
	with := func(pairs ...string) []string { return append(slices.Clone(typed), pairs...) }
	tests := []struct {
		name   string
		page   page
		method string
		req    []string // request header pairs besides Accept-Encoding: zstd, br, gzip
		vary   bool     // Vary: Accept-Encoding expected
		check  func(t *testing.T, r response)
	}{
		{"already encoded", page{header: with("Content-Encoding", "br"), body: br.Bytes()}, "", nil, true,
			func(t *testing.T, r response) {
				wantHeader(t, r, "Content-Encoding", "br")
				if !bytes.Equal(r.decoded, body) {
					t.Error("encoded twice")
				}
			}},
		{"206", page{status: 206, header: with("Content-Range", "bytes 0-8191/20000", "Accept-Ranges", "bytes"), body: body, length: true}, "", nil, true,
			func(t *testing.T, r response) {
				wantHeader(t, r, "Accept-Ranges", "bytes")
				wantHeader(t, r, "Content-Length", strconv.Itoa(len(body)))
			}},
		{"range request answered 200", page{header: with("Accept-Ranges", "bytes"), body: body, length: true}, "", []string{"Range", "bytes=0-10"}, true,
			func(t *testing.T, r response) { wantHeader(t, r, "Accept-Ranges", "bytes") }},
		{"204", page{status: 204, header: typed}, "", nil, false, nil},
		{"HEAD", page{header: with("Etag", `"v1"`), body: body, length: true}, "HEAD", nil, true,
			func(t *testing.T, r response) {
				wantHeader(t, r, "Content-Length", strconv.Itoa(len(body)))
				wantHeader(t, r, "Etag", `"v1"`)
			}},
		{"no-transform", page{header: with("Cache-Control", "public, No-Transform"), body: body}, "", nil, true, nil},
		{"not a compressible type", page{header: []string{"Content-Type", "image/png"}, body: body}, "", nil, false, nil},
		{"type suppressed", page{header: []string{"X-Foo", "bar"}, body: body}, "", nil, false, nil}, // see below
		{"small, with length", page{header: typed, body: body[:1023], length: true}, "", nil, true,
			func(t *testing.T, r response) { wantHeader(t, r, "Content-Length", "1023") }},
		{"small, no length", page{header: typed, body: body[:1023], chunk: 100}, "", nil, true, nil},
		{"empty", page{header: typed}, "", nil, true, nil},
		{"client takes identity only", page{header: typed, body: body}, "", []string{"Accept-Encoding", "identity;q=1, *;q=0"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Handler(tc.page)
			if tc.name == "type suppressed" {
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header()["Content-Type"] = nil // net/http neither sniffs nor sends one
					tc.page.ServeHTTP(w, r)
				})
			}
			srv := serve(t, Options{}, h)
			method := cmpOr(tc.method, "GET")
			hdr := append([]string{"Accept-Encoding", "zstd, br, gzip"}, tc.req...)
			if tc.req != nil && tc.req[0] == "Accept-Encoding" {
				hdr = tc.req
			}
			r := fetch(t, srv, method, "/", hdr...)
			if ce := r.header.Get("Content-Encoding"); ce != "" && tc.name != "already encoded" {
				t.Fatalf("compressed with %s", ce)
			}
			if want := tc.page.body; method == "GET" && tc.page.status != 204 && !bytes.Equal(r.raw, want) {
				t.Errorf("body changed: %d bytes, want %d", len(r.raw), len(want))
			}
			if got := slices.Contains(r.header.Values("Vary"), "Accept-Encoding"); got != tc.vary {
				t.Errorf("Vary %q, want Accept-Encoding: %v", r.header.Values("Vary"), tc.vary)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func wantHeader(t *testing.T, r response, name, want string) {
	t.Helper()
	if got := r.header.Values(name); len(got) != 1 || got[0] != want {
		t.Errorf("%s %q, want %q", name, got, want)
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestIdentityContentEncoding: "Content-Encoding: identity" means no
// coding; the body is compressed and the header replaced.
func TestIdentityContentEncoding(t *testing.T) {
	body := jsonBody(4 << 10)
	srv := serve(t, Options{}, page{header: []string{"Content-Type", typeJSON, "Content-Encoding", "Identity"}, body: body})
	r := fetch(t, srv, "GET", "/", "Accept-Encoding", "gzip")
	if got := r.header.Values("Content-Encoding"); !slices.Equal(got, []string{"gzip"}) {
		t.Fatalf("Content-Encoding %q", got)
	}
	if !bytes.Equal(r.decoded, body) {
		t.Error("body differs")
	}
}

func TestNotModified(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") != "" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", typeJSON)
		w.Write(jsonBody(4 << 10))
	})
	srv := serve(t, Options{}, h)
	full := fetch(t, srv, "GET", "/", "Accept-Encoding", "gzip")
	wantHeader(t, full, "Etag", `W/"v1"`)
	// The client revalidates with the tag it was given; the origin
	// compares weakly and answers 304, which must carry the same tag.
	r := fetch(t, srv, "GET", "/", "Accept-Encoding", "gzip", "If-None-Match", full.header.Get("Etag"))
	if r.status != http.StatusNotModified {
		t.Fatalf("status %d", r.status)
	}
	wantHeader(t, r, "Etag", `W/"v1"`)
	wantHeader(t, r, "Vary", "Accept-Encoding")
	if r.header.Get("Content-Encoding") != "" {
		t.Error("Content-Encoding on a 304")
	}
	// A client that takes no coding got the strong tag and keeps it.
	r = fetch(t, srv, "GET", "/", "If-None-Match", `"v1"`)
	wantHeader(t, r, "Etag", `"v1"`)
	wantHeader(t, r, "Vary", "Accept-Encoding")
}

func TestVary(t *testing.T) {
	body := jsonBody(4 << 10)
	tests := []struct {
		have, want []string
	}{
		{nil, []string{"Accept-Encoding"}},
		{[]string{"Origin"}, []string{"Origin", "Accept-Encoding"}},
		{[]string{"Origin, Cookie"}, []string{"Origin, Cookie", "Accept-Encoding"}},
		{[]string{"accept-encoding"}, []string{"accept-encoding"}},
		{[]string{"Origin,Accept-Encoding"}, []string{"Origin,Accept-Encoding"}},
		{[]string{"Origin", " ACCEPT-ENCODING "}, []string{"Origin", "ACCEPT-ENCODING"}}, // the client trims
		{[]string{"*"}, []string{"*"}},
		{[]string{"Origin, *"}, []string{"Origin, *"}},
	}
	for _, tc := range tests {
		for _, ae := range []string{"gzip", ""} { // compressed or not, the same Vary
			hdr := []string{"Content-Type", typeJSON}
			for _, v := range tc.have {
				hdr = append(hdr, "Vary", v)
			}
			srv := serve(t, Options{}, page{header: hdr, body: body})
			var req []string
			if ae != "" {
				req = []string{"Accept-Encoding", ae}
			}
			r := fetch(t, srv, "GET", "/", req...)
			if got := r.header.Values("Vary"); !slices.Equal(got, tc.want) {
				t.Errorf("Vary %q, accepting %q: got %q, want %q", tc.have, ae, got, tc.want)
			}
			if got := r.header.Get("Content-Encoding"); got != ae {
				t.Errorf("Content-Encoding %q, want %q", got, ae)
			}
		}
	}
}

func TestETag(t *testing.T) {
	body := jsonBody(4 << 10)
	tests := []struct{ have, compressed, identity string }{
		{`"abc"`, `W/"abc"`, `"abc"`},
		{`W/"abc"`, `W/"abc"`, `W/"abc"`},
		{`""`, `W/""`, `""`},
		{`abc`, ``, `abc`}, // not a valid tag: dropped rather than passed as strong
	}
	for _, tc := range tests {
		srv := serve(t, Options{}, page{header: []string{"Content-Type", typeJSON, "Etag", tc.have}, body: body})
		if got := fetch(t, srv, "GET", "/", "Accept-Encoding", "br").header.Get("Etag"); got != tc.compressed {
			t.Errorf("ETag %s compressed: %q, want %q", tc.have, got, tc.compressed)
		}
		if got := fetch(t, srv, "GET", "/").header.Get("Etag"); got != tc.identity {
			t.Errorf("ETag %s identity: %q, want %q", tc.have, got, tc.identity)
		}
	}
}

// TestMinBytes: without Content-Length, the first writes are held until
// the body reaches MinBytes or ends.
func TestMinBytes(t *testing.T) {
	body := jsonBody(8 << 10)
	tests := []struct {
		name  string
		o     Options
		size  int
		chunk int
		want  string
	}{
		{"held, then long enough", Options{}, 1100, 500, "gzip"},
		{"exactly MinBytes", Options{}, 1024, 512, "gzip"},
		{"one short", Options{}, 1023, 512, ""},
		{"custom, under", Options{MinBytes: 2048}, 2047, 1000, ""},
		{"custom, reached", Options{MinBytes: 2048}, 2048, 1000, "gzip"},
		{"custom, length under", Options{MinBytes: 2048}, 2000, 0, ""},
		{"1 compresses a byte", Options{MinBytes: 1}, 1, 0, "gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := page{header: []string{"Content-Type", typeJSON}, body: body[:tc.size], chunk: tc.chunk, length: tc.chunk == 0}
			srv := serve(t, tc.o, p)
			r := fetch(t, srv, "GET", "/", "Accept-Encoding", "gzip")
			if got := r.header.Get("Content-Encoding"); got != tc.want {
				t.Errorf("Content-Encoding %q, want %q", got, tc.want)
			}
			if !bytes.Equal(r.decoded, p.body) {
				t.Error("body differs")
			}
		})
	}
}

// TestInformational: a 103 passes straight through, before the final
// answer is held for its body.
func TestInformational(t *testing.T) {
	body := jsonBody(4 << 10)
	srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Content-Type", typeJSON)
		w.Write(body)
	}))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "zstd")
	var early http.Header
	req = req.WithContext(withGot1xx(req.Context(), func(code int, h http.Header) {
		if code == http.StatusEarlyHints {
			early = h
		}
	}))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if early.Get("Link") == "" || early.Get("Content-Encoding") != "" {
		t.Errorf("103 header %v", early)
	}
	if resp.Header.Get("Content-Encoding") != "zstd" || !bytes.Equal(decode(t, "zstd", raw), body) {
		t.Errorf("final answer %v", resp.Header)
	}
}
