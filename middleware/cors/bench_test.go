package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discard is a ResponseWriter that keeps nothing, so the benchmark counts
// the middleware's own work and allocations.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkCORS: what the middleware adds to an actual request (allowed
// by an exact origin, by a wildcard, disallowed, without Origin, with
// "*") and to a preflight, against the bare handler.
func BenchmarkCORS(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.WriteHeader(200)
	})
	o := Options{
		AllowOrigins:     []string{"https://app.example.com", "https://admin.example.com", "https://*.example.net"},
		AllowMethods:     []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders:     []string{"Content-Type", "Authorization", "X-Request-Id"},
		ExposeHeaders:    []string{"X-Total"},
		AllowCredentials: true,
		MaxAge:           time.Hour,
	}
	h := mustNew(b, o, ok)
	star := mustNew(b, Options{AllowOrigins: []string{"*"}}, ok)
	get := func(origin string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://api.example.com/items", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
		r    *http.Request
	}{
		{"none", ok, get("https://app.example.com")},
		{"actual/exact", h, get("https://app.example.com")},
		{"actual/wildcard", h, get("https://a.b.example.net")},
		{"actual/disallowed", h, get("https://evil.example.com")},
		{"actual/no-origin", h, get("")},
		{"actual/star", star, get("https://app.example.com")},
		{"preflight", h, preflight("https://app.example.com", "PUT", "authorization,content-type")},
		{"preflight/disallowed", h, preflight("https://app.example.com", "PATCH", "")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				bc.h.ServeHTTP(w, bc.r)
			}
		})
	}
}
