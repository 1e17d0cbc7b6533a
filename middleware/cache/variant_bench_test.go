package cache_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/middleware/cache"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
	"github.com/gatehouse-proxy/gatehouse/middleware/compress"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// jsonBody is about n bytes of varied JSON.
func jsonBody(n int) []byte {
	type rec struct {
		ID    int      `json:"id"`
		Name  string   `json:"name"`
		Email string   `json:"email"`
		Tags  []string `json:"tags"`
		Score float64  `json:"score"`
	}
	var recs []rec
	var b []byte
	for i := 0; len(b) < n; i++ {
		recs = append(recs, rec{ID: i, Name: "user " + strings.Repeat("x", i%7), Email: "u" + string(rune('a'+i%26)) + "@example.com", Tags: []string{"t" + string(rune('a'+i%5))}, Score: float64(i*37%1000) / 10})
		b, _ = json.Marshal(recs)
	}
	return b
}

// BenchmarkCompressedHit answers the README's question: should the cache
// store each encoding as a variant (cache outside compress, as the
// middleware table has it), or store identity and compress every hit on
// the way out (compress outside the cache)?
func BenchmarkCompressedHit(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		body := jsonBody(size)
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
		comp, err := compress.New(compress.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, order := range []string{"variant-stored", "compress-each-hit"} {
			b.Run(order+"/"+map[int]string{1 << 10: "1KiB", 64 << 10: "64KiB"}[size], func(b *testing.B) {
				st := store.NewMemory(store.MemoryOptions{MaxBytes: 64 << 20})
				defer st.Close()
				prefer := compress.DefaultEncodings()
				c := cache.New(cache.Options{Store: st, Fail: func(http.ResponseWriter, *http.Request, error) {},
					NormalizeEncoding: func(ae string) string { return compress.Negotiate(ae, prefer) }})
				var h http.Handler
				if order == "variant-stored" {
					h = c(comp(origin))
				} else {
					h = comp(c(origin))
				}
				ctx, info := reqinfo.NewContext(b.Context())
				info.Scheme, info.Path = "http", "/j"
				r := (&http.Request{Method: "GET", Host: "example.com", URL: &url.URL{Path: "/j"}, Header: http.Header{"Accept-Encoding": {"gzip, br"}}}).WithContext(ctx)
				h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
				w := &discardWriter{h: make(http.Header, 16)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					h.ServeHTTP(w, r)
				}
				if ce := w.h.Get("Content-Encoding"); ce != "br" || !bytes.Contains([]byte(w.h.Get("Cache-Status")), []byte("hit")) {
					b.Fatalf("Content-Encoding %q, Cache-Status %q: want a br hit", ce, w.h.Get("Cache-Status"))
				}
			})
		}
	}
}
