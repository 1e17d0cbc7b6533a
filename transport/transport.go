// Package transport is how Gatehouse connects to targets: the TLS client
// settings of https targets (held as comparable data, see TLS) and the
// protocols net/http's Transport speaks per target scheme (SetProtocols,
// RequestScheme), for the forwarder's connection pools and the active
// health probes' client (ProbeClient). The schemes themselves are
// upstream's (upstream.SchemeHTTP, SchemeHTTPS, SchemeH2C), since every
// target of a pool shares one.
package transport

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// SetProtocols configures tr for targets of scheme: for https, TLS from
// cfg with HTTP/2 and HTTP/1.1 offered by ALPN; for h2c, HTTP/2 only
// without TLS (requests then use http:// URLs, see RequestScheme); for
// http, HTTP/1.1.
func SetProtocols(tr *http.Transport, scheme string, cfg *tls.Config) {
	var p http.Protocols
	switch scheme {
	case upstream.SchemeHTTPS:
		tr.TLSClientConfig = cfg
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	case upstream.SchemeH2C:
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
	}
	tr.Protocols = &p
}

// RequestScheme is the URL scheme net/http is given for a target scheme:
// h2c travels as http:// on a transport that speaks only HTTP/2.
func RequestScheme(scheme string) string {
	if scheme == upstream.SchemeH2C {
		return upstream.SchemeHTTP
	}
	return scheme
}

// ProbeClient returns a client of its own for active health probes of
// targets of scheme (tc is the TLS config for https; nil means the
// defaults), so probes neither share connection limits with proxied
// traffic nor wait longer than dialTimeout to connect. It keeps one idle
// connection per target. Probe URLs keep the target's scheme: an h2c://
// URL is sent as http:// over HTTP/2, as RequestScheme says. The pool
// using it decides about redirects (upstream never follows them).
func ProbeClient(scheme string, tc *tls.Config, dialTimeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: dialTimeout}).DialContext,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	SetProtocols(tr, scheme, tc)
	if scheme != RequestScheme(scheme) {
		tr.RegisterProtocol(scheme, requestSchemeRT{tr, RequestScheme(scheme)})
	}
	return &http.Client{Transport: tr}
}

// requestSchemeRT sends requests for a target scheme net/http does not
// know through tr under the scheme it does.
type requestSchemeRT struct {
	tr     *http.Transport
	scheme string
}

// RoundTrip sends a copy of r with the URL scheme replaced; r itself is
// not modified, as the RoundTripper contract requires.
func (s requestSchemeRT) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme = s.scheme
	return s.tr.RoundTrip(out)
}

var _ http.RoundTripper = requestSchemeRT{}
