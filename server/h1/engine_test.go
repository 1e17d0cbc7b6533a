package h1

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/server/enginetest"
)

// TestContracts runs the engine suite against a bare h1.Server.
func TestContracts(t *testing.T) {
	enginetest.Run(t, func(t *testing.T, h http.Handler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{Handler: h, MaxHeaderBytes: enginetest.HeaderLimit, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second}
		go s.Serve(ln)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if s.Shutdown(ctx) != nil {
				s.Close()
			}
		})
		return ln.Addr().String()
	})
}
