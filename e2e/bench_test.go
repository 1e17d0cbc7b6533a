package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// BenchmarkProxyGet measures a keep-alive GET of a 1 KiB body through the
// whole handler (client IP, request ID, routing, forwarding headers, the
// upstream pool, the forwarder and the JSON access log) over loopback. The
// allocations reported are the whole process's: client, proxy and backend
// (a bare httptest server, not a recording testkit backend).
func BenchmarkProxyGet(b *testing.B) {
	backend := httptest.NewServer(testkit.Sized(1024))
	defer backend.Close()
	g := testkit.Start(b, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": backend.URL})
	g.Access.Discard()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	url := g.URL + "/bench"
	get := func() {
		res, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || n != 1024 || res.StatusCode != 200 {
			b.Fatalf("%d, %d bytes, %v", res.StatusCode, n, err)
		}
	}
	get() // warm both connection pools
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		get()
	}
}
