// Package altsvc advertises a listener's HTTP/3 endpoint in the Alt-Svc
// response header (RFC 7838), so clients that can switch to QUIC.
package altsvc

import (
	"net/http"
	"strconv"
)

// New returns middleware adding Alt-Svc for HTTP/3 on UDP port. The value
// is built once and shared by every response.
func New(port int) func(http.Handler) http.Handler {
	v := []string{`h3=":` + strconv.Itoa(port) + `"; ma=86400`}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Alt-Svc"] = v
			next.ServeHTTP(w, r)
		})
	}
}
