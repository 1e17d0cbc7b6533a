package testkit

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// Protocol selects what HTTPSClient speaks.
type Protocol int

const (
	HTTP1 Protocol = iota // HTTP/1.1 over TLS
	HTTP2                 // HTTP/2 over TLS (ALPN h2 only)
	HTTP3                 // HTTP/3 over QUIC
	H2C                   // cleartext HTTP/2 with prior knowledge
)

// HTTPSClient returns a client that connects every request to addr,
// whatever the URL's host (which still sets SNI and Host), speaking p with
// tlsConf (nil for H2C). It follows no redirects and is closed at cleanup.
func HTTPSClient(t testing.TB, addr string, p Protocol, tlsConf *tls.Config) *http.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	var rt http.RoundTripper
	switch p {
	case HTTP3:
		tr := &http3.Transport{
			TLSClientConfig: tlsConf,
			Dial: func(ctx context.Context, _ string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
				return quic.DialAddr(ctx, addr, tc, qc)
			},
		}
		t.Cleanup(func() { tr.Close() })
		rt = tr
	default:
		tr := &http.Transport{Proxy: nil, DialContext: dial, TLSClientConfig: tlsConf, DisableCompression: true}
		var ps http.Protocols
		switch p {
		case HTTP1:
			ps.SetHTTP1(true)
		case HTTP2:
			ps.SetHTTP2(true)
		case H2C:
			ps.SetUnencryptedHTTP2(true)
		}
		tr.Protocols = &ps
		t.Cleanup(tr.CloseIdleConnections)
		rt = tr
	}
	return &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}
