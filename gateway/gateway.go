// Package gateway compiles a validated config into an immutable Runtime,
// the http.Handler that serves every request: it resolves the client,
// normalizes the path, picks a route and runs the route's compiled chain.
// A reload compiles a new Runtime; the server swaps it in atomically, and
// in-flight requests finish on the Runtime they started with.
package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/textproto"

	"github.com/gatehouse-proxy/gatehouse/accesslog"
	"github.com/gatehouse-proxy/gatehouse/clientip"
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware"
	"github.com/gatehouse-proxy/gatehouse/middleware/auth"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
	"github.com/gatehouse-proxy/gatehouse/middleware/ipfilter"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
	"github.com/gatehouse-proxy/gatehouse/router"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
	"github.com/gatehouse-proxy/gatehouse/upstream"
	"github.com/gatehouse-proxy/gatehouse/urlpath"
)

// Runtime is one compiled configuration. Immutable once compiled, except
// for Start and Stop; safe for concurrent use.
type Runtime struct {
	// Config is the configuration this runtime was compiled from. Read only.
	Config *config.Config

	env        *Env
	ips        *clientip.Resolver
	funnel     *funnel.Funnel
	forwarding *proxy.Forwarding
	ridHeader  string

	certs *tlsx.Plan // the certificates; served once the runtime starts
	// anyCerts: some host has a certificate, so plain requests may need
	// redirecting; without, plain requests skip that work.
	anyCerts bool
	hsts     *hsts // nil when no policy

	router *router.Router[*route]
	def    *route
	pools  map[string]*poolEntry
	// caches are the named caches' stores; freshCaches those this
	// compile made, which the runtime owns until it starts.
	caches      map[string]*cacheEntry
	freshCaches []store.Store
	// limiters are the named rate-limit stores; freshLimiters those this
	// runtime made, stopped if it never starts.
	limiters      map[string]*limiterEntry
	freshLimiters []*limiterEntry
	// keySets are the jwt authenticators' JWKS key sets; freshKeySets
	// those this runtime made, closed if it never starts.
	keySets      map[string]*keySetEntry
	freshKeySets []*keySetEntry
	// authenticators are built once per runtime, shared by its routes.
	authenticators map[string]auth.Method
	// ipFilters are the listeners' ip_filter, by listener name.
	ipFilters map[string]*ipfilter.Filter
	// components hold resources or run background work; they start
	// with the runtime and close when it retires (lifecycle.go).
	components []Component
	handler    http.Handler // the Request-stage middleware around dispatch

	life
}

// route is a compiled route: its action inside its middleware.
type route struct {
	name    string
	handler http.Handler
}

type poolEntry struct {
	pool *upstream.Pool
	fwd  proxy.Forwarder
	opts proxy.TransportOptions
}

// Compile builds a Runtime from a validated config. It does not start
// background work; call Start. An error means nothing was started (what
// was opened is closed) and the caller should keep its current runtime.
func Compile(cfg *config.Config, env *Env) (*Runtime, error) {
	rt := &Runtime{
		Config:    cfg,
		env:       env,
		ips:       clientip.New(cfg.TrustedPrefixes(), cfg.TrustedHops),
		ridHeader: textproto.CanonicalMIMEHeaderKey(cfg.Forwarding.RequestIDHeader),
		pools:     make(map[string]*poolEntry),
	}
	rt.funnel = &funnel.Funnel{Log: env.Log, RequestIDHeader: rt.ridHeader}
	rt.forwarding = &proxy.Forwarding{
		Forwarded:              cfg.Forwarding.Forwarded,
		Via:                    cfg.Forwarding.Via,
		RequestIDHeader:        rt.ridHeader,
		PassProxyAuthorization: cfg.Forwarding.PassProxyAuthorization,
		UnderscoresInHeaders:   cfg.Forwarding.UnderscoresInHeaders,
	}
	if name := cfg.Forwarding.ClientCertHeader; name != "" {
		rt.forwarding.ClientCertHeader = textproto.CanonicalMIMEHeaderKey(name)
	}
	certs, err := env.TLS.Prepare(&cfg.TLS, "")
	if err != nil {
		return nil, err
	}
	rt.certs = certs
	rt.anyCerts = len(cfg.TLS.Certificates) > 0 || cfg.TLS.ACME != nil
	rt.hsts = compileHSTS(cfg.TLS.HSTS)
	for name, u := range cfg.Upstreams {
		if err := rt.addPool(name, u); err != nil {
			rt.close()
			return nil, err
		}
	}
	if err := rt.compileCaches(); err != nil {
		rt.close()
		return nil, err
	}
	if err := rt.compileRateLimits(); err != nil {
		rt.close()
		return nil, err
	}
	for _, l := range cfg.Listeners {
		if l.IPFilter == nil {
			continue
		}
		f, err := ipfilter.Parse(l.IPFilter.Allow, l.IPFilter.Deny)
		if err != nil {
			rt.close()
			return nil, fmt.Errorf("listener %s: ip_filter: %w", l.Name, err)
		}
		if rt.ipFilters == nil {
			rt.ipFilters = map[string]*ipfilter.Filter{}
		}
		rt.ipFilters[l.Name] = f
	}
	if err := rt.compileKeySets(); err != nil {
		rt.close()
		return nil, err
	}
	if rt.authenticators, err = middleware.Authenticators(cfg, rt.keySetsByName(), rt.env.Log); err != nil {
		rt.close()
		return nil, err
	}
	for _, m := range rt.authenticators {
		if c, ok := m.(io.Closer); ok {
			rt.components = append(rt.components, closerComponent{c})
		}
	}
	if err := rt.compileRoutes(); err != nil {
		rt.close()
		return nil, err
	}
	h, err := middleware.Chain(middleware.Request, rt.scope(nil), http.HandlerFunc(rt.dispatch))
	if err != nil {
		rt.close()
		return nil, err
	}
	rt.handler = h
	return rt, nil
}

// addPool builds an upstream pool and its forwarder.
func (rt *Runtime) addPool(name string, u *config.Upstream) error {
	p, opts, err := compilePool(name, u, rt.env)
	if err != nil {
		return fmt.Errorf("upstream %q: %w", name, err)
	}
	rt.pools[name] = &poolEntry{pool: p, fwd: rt.env.forwarder(name, opts), opts: opts}
	rt.components = append(rt.components, poolComponent{p})
	return nil
}

// scope is what the middleware table builds rt's chains from: the
// Request stage with a nil rc, a route's chain otherwise.
func (rt *Runtime) scope(rc *config.Route) *middleware.Scope {
	return &middleware.Scope{Config: rt.Config, Route: rc, Deps: middleware.Deps{
		Funnel:         rt.funnel,
		Access:         rt.env.Access,
		Resolver:       rt.ips,
		Caches:         rt.stores(),
		Limiters:       rt.limiterStores(),
		Authenticators: rt.authenticators,
		Local:          rt.env.localLimiter,
		Log:            rt.env.Log,
	}}
}

// ServeHTTP runs the Request-stage middleware (request facts first) and
// then dispatch. The caller has registered the request with TryServeHTTP
// or owns rt outright (a test).
func (rt *Runtime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.handler.ServeHTTP(w, r)
}

// dispatch normalizes the path, answers what comes before routing (ACME
// challenges, the HTTPS redirect, HSTS) and runs the matched route. r is
// already a copy owned by this request (made by the request facts).
func (rt *Runtime) dispatch(w http.ResponseWriter, r *http.Request) {
	info := reqinfo.From(r.Context())
	if !validHost(r.Host) {
		rt.funnel.Fail(w, r, fmt.Errorf("host %q: %w", r.Host, funnel.ErrBadRequest))
		return
	}
	// Normalized before the plain HTTP checks, so that dot segments cannot
	// pass a request off as an ACME challenge and route it unredirected.
	raw := proxy.RequestPath(r)
	p, ok := urlpath.Normalize(raw)
	if !ok {
		rt.funnel.Fail(w, r, fmt.Errorf("path %q: %w", raw, funnel.ErrBadRequest))
		return
	}
	info.Path = p
	if r.TLS == nil {
		if rt.plainHTTP(w, r, info) {
			return
		}
	} else if rt.hsts != nil {
		if v := rt.hsts.value(hostOnly(r.Host)); v != nil {
			w.Header()["Strict-Transport-Security"] = v
		}
	}
	if r.Method == http.MethodConnect {
		// Not a forward proxy: net/http parses "CONNECT /path" like any
		// request, and it must not be routed to a target as a tunnel.
		rt.funnel.Fail(w, r, fmt.Errorf("method CONNECT: %w", funnel.ErrBadRequest))
		return
	}
	if len(rt.ipFilters) > 0 {
		if l := listenerFrom(r.Context()); l != nil {
			if f := rt.ipFilters[l.Name]; f != nil && !f.Allowed(info.ClientIP) {
				rt.funnel.Fail(w, r, fmt.Errorf("listener %s ip_filter: client %s is not allowed: %w", l.Name, info.ClientIP, funnel.ErrForbidden))
				return
			}
		}
	}
	rte, ok := rt.router.Match(r.Host, p, r)
	if !ok {
		if rt.def == nil {
			rt.funnel.Fail(w, r, funnel.ErrNoRoute)
			return
		}
		rte = rt.def
	}
	info.Route = rte.name
	rte.handler.ServeHTTP(w, r)
}

var _ http.Handler = (*Runtime)(nil)

// Refused logs a request no handler saw (the HTTP/1.1 parser refused it)
// through the funnel and, when the access log is on, in the access log.
func (rt *Runtime) Refused(r funnel.Refusal) {
	rt.funnel.Refused(r)
	if rt.Config.Log.Access {
		accesslog.Refused(rt.env.Access, r)
	}
}
