package compress

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// discard is a ResponseWriter that counts the body and keeps nothing, so
// that a benchmark measures the middleware alone.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(int)     {}
func (d *discard) Write(p []byte) (int, error) {
	d.n += len(p)
	return len(p), nil
}

var jsonType = []string{"application/json"}

// serveBody returns the middleware around a handler writing body (with
// an ETag when etag is set), and a writer to serve into.
func serveBody(tb testing.TB, body []byte, etag bool) (http.Handler, *discard) {
	mw, err := New(Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tag := []string{`"5f3a-19000"`}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = jsonType
		if etag {
			w.Header()["Etag"] = tag
		}
		w.Write(body)
	}))
	return h, &discard{h: http.Header{}}
}

// BenchmarkCompress serves a 100 KiB JSON body through the middleware for
// each coding, and identity; ratio is the identity size over the sent.
func BenchmarkCompress(b *testing.B) {
	body := jsonBody(100 << 10)
	for _, enc := range []string{"zstd", "br", "gzip", "identity"} {
		b.Run(enc, func(b *testing.B) {
			h, w := serveBody(b, body, false)
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", enc)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.n = 0
				h.ServeHTTP(w, req)
			}
			if got := w.h.Get("Content-Encoding"); got != enc && enc != "identity" {
				b.Fatalf("Content-Encoding %q", got)
			}
			b.ReportMetric(float64(len(body))/float64(w.n), "ratio")
		})
	}
}

func BenchmarkNegotiate(b *testing.B) {
	for _, ae := range []string{
		"gzip, deflate, br, zstd",              // Chrome, Firefox
		"gzip, deflate, br",                    // Safari
		"br;q=1.0, gzip;q=0.8, *;q=0.1",        // weighted
		"identity;q=1, gzip;q=0.5, x-gzip;q=0", // odd
	} {
		b.Run(ae, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Negotiate(ae, all)
			}
		})
	}
}

// BenchmarkLevels measures the encoders alone at the levels worth
// comparing, on 100 KiB of JSON and of Go source (this repository's
// middleware): the numbers behind the default levels (see options.go).
func BenchmarkLevels(b *testing.B) {
	var src bytes.Buffer
	files, _ := filepath.Glob("../*/*.go")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		src.Write(data)
	}
	if src.Len() < 100<<10 {
		b.Fatalf("only %d bytes of Go source", src.Len())
	}
	bodies := []struct {
		name string
		data []byte
	}{{"json", jsonBody(100 << 10)[:100<<10]}, {"go", src.Bytes()[:100<<10]}}
	levels := map[coding][]int{
		codingZstd:   {1, 3, 6, 10},
		codingBrotli: {0, 1, 2, 3, 4, 5, 6},
		codingGzip:   {1, 2, 3, 4, 5, 6, 7, 9},
	}
	for _, body := range bodies {
		for c := range numCodings {
			for _, level := range levels[c] {
				b.Run(fmt.Sprintf("%s/%s-%d", body.name, names[c], level), func(b *testing.B) {
					var out discard
					e := newEncoder(c, c.poolLevel(level))
					b.SetBytes(int64(len(body.data)))
					for b.Loop() {
						out.n = 0
						e.Reset(&out)
						e.Write(body.data)
						e.Close()
					}
					b.ReportMetric(float64(len(body.data))/float64(out.n), "ratio")
				})
			}
		}
	}
}
