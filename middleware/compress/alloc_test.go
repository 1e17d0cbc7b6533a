//go:build !race

// The race detector drops pooled items at random, so allocation counts
// mean nothing under it; this file is built without it only.

package compress

import (
	"net/http/httptest"
	"testing"
)

// TestAllocs: once the pools are warm a compressed response allocates
// nothing but its weakened ETag (the string and its slice), and one
// passed through nothing at all.
func TestAllocs(t *testing.T) {
	body := jsonBody(16 << 10)
	for _, tc := range []struct {
		enc  string
		etag bool
		max  float64
	}{
		{"zstd", false, 0}, {"br", false, 0}, {"gzip", false, 0},
		{"gzip", true, 2}, {"identity", true, 0},
	} {
		h, w := serveBody(t, body, tc.etag)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept-Encoding", tc.enc)
		n := testing.AllocsPerRun(50, func() {
			clear(w.h)
			h.ServeHTTP(w, req)
		})
		if n > tc.max {
			t.Errorf("%s (ETag %v): %v allocations per response, want at most %v", tc.enc, tc.etag, n, tc.max)
		}
	}
}
