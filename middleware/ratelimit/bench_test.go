package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// discard is a ResponseWriter that keeps nothing, so the benchmark counts
// the middleware's own work and allocations.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkMiddleware: what a memory limit adds to a request, with and
// without the RateLimit headers, against the bare handler.
func BenchmarkMiddleware(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	key, _ := ratelimit.ParseKey("client_ip", 32, 64)
	limit := func(headers bool) ratelimit.Limit {
		return ratelimit.Limit{Name: "limit", Policy: "r\x00limit", Key: key, Rate: gcra.Per(1e6, time.Second, 1e6),
			Store: store.NewMemory(1<<20, nil), Headers: headers}
	}
	fail := func(w http.ResponseWriter, r *http.Request, err error) { b.Fatal(err) }
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"none", ok},
		{"memory", ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{limit(true)}}, fail)(ok)},
		{"memory-no-headers", ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{limit(false)}}, fail)(ok)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			ctx, info := reqinfo.NewContext(req.Context())
			req = req.WithContext(ctx)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for i := range b.N {
				info.ClientIP = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}) // 65,536 clients in turn
				clear(w.h)
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}
