package cache

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// sink is a ResponseWriter that keeps nothing, so a benchmark measures
// the cache and not the recorder.
type sink struct{ h http.Header }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(int)             {}
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkHit is one fresh hit from the memory store: lookup, Vary
// check, freshness, header copy with Age and Cache-Status, body write.
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(strings.TrimSuffix(strings.TrimSuffix(itoa(int64(size>>10)), "")+"KiB", ""), func(b *testing.B) {
			st := store.NewMemory(store.MemoryOptions{MaxBytes: 64 << 20})
			body := strings.Repeat("x", size)
			origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Vary", "Accept-Encoding")
				w.Write([]byte(body))
			})
			h := New(Options{Store: st, Fail: func(http.ResponseWriter, *http.Request, error) {}})(origin)
			ctx, info := reqinfo.NewContext(b.Context())
			info.Scheme, info.Path = "http", "/bench"
			r := (&http.Request{Method: "GET", Host: "example.com", URL: &url.URL{Path: "/bench"}, Header: http.Header{"Accept-Encoding": {"gzip"}}}).WithContext(ctx)
			h.ServeHTTP(&sink{h: http.Header{}}, r) // the miss that fills
			w := &sink{h: make(http.Header, 16)}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			if !strings.Contains(w.h.Get("Cache-Status"), "hit") {
				b.Fatalf("not a hit: %q", w.h.Get("Cache-Status"))
			}
		})
	}
}
