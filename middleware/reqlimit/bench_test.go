package reqlimit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkPass: what the limits add to a request they let through, with
// a browser-sized header of ten fields.
func BenchmarkPass(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	fail := func(w http.ResponseWriter, r *http.Request, err error) { b.Fatal(err) }
	r := httptest.NewRequest("GET", "/api/v1/items?page=2&sort=name", nil)
	for k, v := range map[string]string{
		"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"Accept-Encoding": "gzip, deflate, br, zstd",
		"Accept-Language": "en-US,en;q=0.5",
		"Cookie":          "session=0123456789abcdef0123456789abcdef; theme=dark",
		"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
		"Referer":         "https://example.com/",
		"Sec-Fetch-Dest":  "document",
		"Sec-Fetch-Mode":  "navigate",
		"Sec-Fetch-Site":  "same-origin",
		"Priority":        "u=0, i",
	} {
		r.Header.Set(k, v)
	}
	for _, bc := range []struct {
		name string
		o    Options
	}{
		{"all", Options{MaxHeaderBytes: 8192, MaxURIBytes: 2048, Methods: []string{"GET", "POST", "PUT", "DELETE"}}},
		{"header", Options{MaxHeaderBytes: 8192}},
		{"uri", Options{MaxURIBytes: 2048}},
		{"methods", Options{Methods: []string{"POST", "PUT", "DELETE", "GET"}}},
	} {
		h := New(bc.o, fail)(ok)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(nil, r)
			}
		})
	}
}
