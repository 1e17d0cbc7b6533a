package enginetest

import (
	"io"
	"log"
	"net"
	"net/http"
	"testing"
)

// TestNetHTTP proves the suite against the reference it was written
// from: net/http's server, configured only with the header limit.
func TestNetHTTP(t *testing.T) {
	Run(t, func(t *testing.T, h http.Handler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h, MaxHeaderBytes: HeaderLimit - 4096, ErrorLog: log.New(io.Discard, "", 0)}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().String()
	})
}
