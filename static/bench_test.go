package static

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkParsePath(b *testing.B) {
	for _, p := range []string{"/css/site/main.css", "/img/a%20b.png"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parsePath(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkServeFile(b *testing.B) {
	tr := newTree(b)
	h, err := New(Options{Root: tr.root})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	req := httptest.NewRequest(http.MethodGet, "/digits.txt", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
