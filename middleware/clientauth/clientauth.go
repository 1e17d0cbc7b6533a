// Package clientauth refuses (403) requests to a route that requires a
// client certificate verifying against the route's own CA bundle. The
// listener may accept certificates from several authorities; a route
// narrows that to one.
package clientauth

import (
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
)

// Options configure the check. Validated by config.
type Options struct {
	// Route names the route, for the log line of a refusal.
	Route string
	// CA is the PEM bundle file client certificates must verify against.
	// It is read by New, so a reload picks up a changed bundle.
	CA string
}

// ErrClientCert refuses a request without the client certificate its
// route requires.
var ErrClientCert = &funnel.Class{Status: http.StatusForbidden,
	Message: "forbidden: a verified client certificate is required", Reason: "forbidden"}

// New returns the middleware. Refusals go to fail.
func New(o Options, fail func(http.ResponseWriter, *http.Request, error)) (func(http.Handler) http.Handler, error) {
	pool, err := tlsx.LoadCAPool(o.CA)
	if err != nil {
		return nil, fmt.Errorf("client_auth.ca: %w", err)
	}
	return middleware(o.Route, pool, fail), nil
}

func middleware(route string, pool *x509.CertPool, fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tlsinfo.Verified(r, pool) {
				next.ServeHTTP(w, r)
				return
			}
			fail(w, r, fmt.Errorf("route %q requires a client certificate that verifies against its CA; got %s: %w",
				route, tlsinfo.VerifyStatus(r), ErrClientCert))
		})
	}
}
