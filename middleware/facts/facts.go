// Package facts is the first middleware of every request: it records
// what Gatehouse knows before routing (the TCP peer, the client after
// trusted-proxy resolution, the scheme, the request ID) in a
// reqinfo.Info that every later layer shares, and answers with the
// request ID.
package facts

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gatehouse-proxy/gatehouse/clientip"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Options configure the facts. Validated by config.
type Options struct {
	// Resolver finds the client behind trusted proxies. Required.
	Resolver *clientip.Resolver
	// RequestIDHeader is the canonical name of the request ID header: a
	// well-formed incoming ID is kept (so IDs follow a request across
	// services), otherwise a new one is made; the response carries it.
	RequestIDHeader string
}

// New returns the middleware.
func New(o Options) func(http.Handler) http.Handler {
	ips, ridHeader := o.Resolver, o.RequestIDHeader
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, info := reqinfo.NewContext(r.Context())
			info.Start, info.Scheme = time.Now(), "http"
			if r.TLS != nil {
				info.Scheme = "https"
			}
			info.Peer, _ = clientip.ParsePeer(r.RemoteAddr)
			info.ClientIP, info.Trusted = ips.Resolve(info.Peer, r.Header)
			info.RequestID = RequestID(r.Header[ridHeader])
			info.IDHeader[0] = info.RequestID
			w.Header()[ridHeader] = info.IDHeader[:]
			// The copy made here is the request every later layer owns.
			// Gatehouse's own engine gives each request to the handlers
			// alone and keeps the Info in its context: no copy needed.
			if ctx != r.Context() {
				r = r.WithContext(ctx)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequestID keeps a well-formed incoming ID and otherwise makes a new
// random one.
func RequestID(in []string) string {
	if len(in) == 1 && validID(in[0]) {
		return in[0]
	}
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	var x [32]byte
	hex.Encode(x[:], b[:])
	return string(x[:])
}

// validID accepts 1 to 200 visible ASCII characters, so an ID cannot
// smuggle anything into logs or headers.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
