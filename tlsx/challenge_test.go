package tlsx_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
)

// TestChallengeHandshakeCarriesNoHTTP: a listener requiring client
// certificates lets a hello offering acme-tls/1 through without one (the
// CA's validator has none), but such a connection only ever negotiates
// acme-tls/1, so net/http serves it nothing: offering acme-tls/1 next to
// http/1.1 is no way around client authentication.
func TestChallengeHandshakeCarriesNoHTTP(t *testing.T) {
	s := newMTLS(t)
	get := func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &s.serverLeaf.TLS, nil }
	ca := &config.ClientAuth{Mode: "require", CA: s.trusted.CertFile}
	cfg, _, err := tlsx.ServerConfig(&config.ListenerTLS{ClientAuth: ca}, get, []string{"h2", "http/1.1", "acme-tls/1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{TLSConfig: cfg, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served")
	})}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })

	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c := s.server.ClientTLS("localhost", nil)
		c.MaxVersion = v
		c.NextProtos = []string{"http/1.1", "acme-tls/1"}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", ln.Addr().String(), c)
		if err != nil {
			t.Fatalf("%s: the challenge handshake failed: %v", tls.VersionName(v), err)
		}
		if p := conn.ConnectionState().NegotiatedProtocol; p != "acme-tls/1" {
			t.Errorf("%s: negotiated %q, want acme-tls/1 only", tls.VersionName(v), p)
		}
		conn.SetDeadline(time.Now().Add(ioTimeout))
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
			t.Errorf("%s: an HTTP request on the challenge connection was answered: %q", tls.VersionName(v), line)
		}
		conn.Close()

		// Without acme-tls/1, the certificate is still required.
		c.NextProtos = []string{"http/1.1"}
		if _, err := dial(ln.Addr().String(), c); err == nil {
			t.Errorf("%s: a client without a certificate completed the handshake", tls.VersionName(v))
		}
	}
}
