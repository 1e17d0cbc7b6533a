package config

import (
	"fmt"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/cors"
	"github.com/gatehouse-proxy/gatehouse/middleware/ipfilter"
)

// routeEdge checks a route's ip_filter, cors and request_limits with the
// parsers the middleware itself uses, so what validate accepts always
// builds.
func (v *checker) routeEdge(p string, r *Route) {
	if f := r.IPFilter; f != nil {
		if _, err := ipfilter.Parse(f.Allow, f.Deny); err != nil {
			v.add(p+".ip_filter", "%v", err)
		}
	}
	if c := r.CORS; c != nil {
		if _, err := cors.New(CORSOptions(c)); err != nil {
			v.add(p+".cors", "%v", err)
		}
	}
	if l := r.RequestLimits; l != nil {
		if l.MaxHeaderBytes < 0 {
			v.add(p+".request_limits.max_header_bytes", "must not be negative (0 means no limit of the route's own)")
		}
		if l.MaxURIBytes < 0 {
			v.add(p+".request_limits.max_uri_bytes", "must not be negative (0 means no limit of the route's own)")
		}
		for i, m := range l.Methods {
			if !isToken(m) {
				v.add(fmt.Sprintf("%s.request_limits.methods[%d]", p, i), "%q is not a method name", m)
			}
		}
	}
}

// CORSOptions is the middleware's form of c.
func CORSOptions(c *CORS) cors.Options {
	return cors.Options{
		AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
		ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials,
		MaxAge: time.Duration(c.MaxAge), AllowPrivateNetwork: c.AllowPrivateNetwork,
	}
}
