package h2guard_test

import (
	"log/slog"
	"net"
	"net/http"

	"golang.org/x/net/http2"

	"github.com/gatehouse-proxy/gatehouse/server/h2guard"
)

// A listener's HTTP/2 engine builds one Policy and wraps each connection
// (the *tls.Conn after the handshake, or the h2c conn) before ServeConn.
func ExamplePolicy_Wrap() {
	log := slog.Default()
	guard := &h2guard.Policy{Listener: "web", OnTrip: func(e h2guard.Event) {
		log.Warn("HTTP/2 connection resets streams too fast", "listener", e.Listener,
			"peer", e.Remote.String(), "opened", e.Opened, "resets", e.Resets, "last_stream", e.LastStream)
	}}
	srv := &http2.Server{}
	serve := func(c net.Conn, h http.Handler) {
		srv.ServeConn(guard.Wrap(c), &http2.ServeConnOpts{Handler: h})
	}
	_ = serve
}
