// Package middleware holds the one ordered table of every middleware
// Gatehouse runs, and builds the chains from it. Each middleware is a
// package of its own under middleware/<kind>/ with its options struct and
// a constructor; adding one means that package plus one row here. The
// order is fixed by the table, never by the user (see the README's
// "Middleware order").
package middleware

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"slices"

	"github.com/gatehouse-proxy/gatehouse/accesslog"
	"github.com/gatehouse-proxy/gatehouse/clientip"
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/altsvc"
	"github.com/gatehouse-proxy/gatehouse/middleware/auth"
	"github.com/gatehouse-proxy/gatehouse/middleware/bodylimit"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
	"github.com/gatehouse-proxy/gatehouse/middleware/clientauth"
	"github.com/gatehouse-proxy/gatehouse/middleware/compress"
	"github.com/gatehouse-proxy/gatehouse/middleware/cors"
	"github.com/gatehouse-proxy/gatehouse/middleware/deadline"
	"github.com/gatehouse-proxy/gatehouse/middleware/facts"
	"github.com/gatehouse-proxy/gatehouse/middleware/headers"
	"github.com/gatehouse-proxy/gatehouse/middleware/ipfilter"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
	rlstore "github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
	"github.com/gatehouse-proxy/gatehouse/middleware/reqlimit"
)

// Stage is where a middleware runs, and so how often its chain is built.
type Stage int

const (
	// Connection middleware runs first, for every request of a listener;
	// built when the listener's settings change.
	Connection Stage = iota
	// Request middleware runs for every request before routing; built
	// with each runtime (config).
	Request
	// Route middleware runs for the requests of one route, around its
	// action; built once per route with each runtime.
	Route
)

func (s Stage) String() string {
	switch s {
	case Connection:
		return "connection"
	case Request:
		return "request"
	}
	return "route"
}

// Row is one middleware in the table.
type Row struct {
	// Name is the middleware's name, its config key where it has one.
	Name  string
	Stage Stage
	// Build returns the middleware for scope, or nil when it has nothing
	// to do there (not configured). A nil Build reserves the row's place
	// for a kind not built yet.
	Build func(s *Scope) (func(http.Handler) http.Handler, error)
}

// Deps are what middleware may need besides its options. They outlive
// one chain; state that must survive a reload comes in here, never
// through package variables.
type Deps struct {
	// Funnel answers every refusal.
	Funnel *funnel.Funnel
	// Access receives the access log; nil disables it.
	Access *slog.Logger
	// Resolver finds the client behind trusted proxies.
	Resolver *clientip.Resolver
	// Caches are the named caches' stores, which outlive reloads.
	Caches map[string]store.Store
	// Limiters are the named rate-limit stores, which outlive reloads;
	// Local returns the memory store of limits that name none.
	Limiters map[string]rlstore.Store
	Local    func() rlstore.Store
	// Authenticators are the config's named authenticators, built once
	// per runtime (Authenticators).
	Authenticators map[string]auth.Method
	// Log receives what middleware notices outside the funnel (a failing
	// cache store, say). Nil discards.
	Log *slog.Logger
}

// Scope is what a row builds from: the whole config, and the listener or
// route whose chain is being built.
type Scope struct {
	Config *config.Config
	// Listener is set for the Connection stage.
	Listener *config.Listener
	// HTTP3Port is the UDP port a Connection-stage chain advertises in
	// Alt-Svc; 0 when the listener does not serve HTTP/3.
	HTTP3Port int
	// Route is set for the Route stage.
	Route *config.Route
	Deps
}

// Table returns every middleware, outermost first. Reserved rows (nil
// Build) fix where the kinds the next releases add will run.
func Table() []Row {
	return []Row{
		{"deadline", Connection, buildDeadline},
		{"alt_svc", Connection, buildAltSvc},

		{"request_facts", Request, buildFacts},
		{"tracing", Request, nil},
		{"access_log", Request, buildAccessLog},
		{"metrics", Request, nil},

		{"ip_filter", Route, buildIPFilter},
		{"cors", Route, buildCORS},
		{"request_limits", Route, buildRequestLimits},
		{"client_auth", Route, buildClientAuth},
		{"rate_limit", Route, buildRateLimit(false)},
		{"auth", Route, buildAuth},
		{"rate_limit_identity", Route, buildRateLimit(true)},
		{"body_limit", Route, buildBodyLimit},
		{"request_headers", Route, buildRequestHeaders},
		{"cache", Route, buildCache},
		{"compress", Route, buildCompress},
		{"response_headers", Route, buildResponseHeaders},
	}
}

// Chain wraps next in the middleware of stage that scope configures, in
// table order (the first row outermost).
func Chain(stage Stage, s *Scope, next http.Handler) (http.Handler, error) {
	rows := Table()
	for i := len(rows) - 1; i >= 0; i-- {
		row := &rows[i]
		if row.Stage != stage || row.Build == nil {
			continue
		}
		mw, err := row.Build(s)
		if err != nil {
			return nil, err
		}
		if mw != nil {
			next = mw(next)
		}
	}
	return next, nil
}

func buildDeadline(s *Scope) (func(http.Handler) http.Handler, error) {
	lc := s.Listener
	return deadline.Middleware(deadline.Limits{
		BodyIdle:   lc.ClientBodyTimeout.D(),
		SendIdle:   lc.SendTimeout.D(),
		ReadTotal:  lc.ReadTimeout.D(),
		WriteTotal: lc.WriteTimeout.D(),
	}), nil
}

func buildAltSvc(s *Scope) (func(http.Handler) http.Handler, error) {
	if s.HTTP3Port == 0 {
		return nil, nil
	}
	return altsvc.New(s.HTTP3Port), nil
}

func buildFacts(s *Scope) (func(http.Handler) http.Handler, error) {
	return facts.New(facts.Options{Resolver: s.Resolver, RequestIDHeader: s.Funnel.RequestIDHeader}), nil
}

func buildAccessLog(s *Scope) (func(http.Handler) http.Handler, error) {
	if !s.Config.Log.Access || s.Access == nil {
		return nil, nil
	}
	return accesslog.Middleware(s.Access), nil
}

func buildClientAuth(s *Scope) (func(http.Handler) http.Handler, error) {
	if s.Route.ClientAuth == nil {
		return nil, nil
	}
	return clientauth.New(clientauth.Options{Route: s.Route.Name, CA: s.Route.ClientAuth.CA}, s.Funnel.Fail)
}

func buildIPFilter(s *Scope) (func(http.Handler) http.Handler, error) {
	f := s.Route.IPFilter
	if f == nil {
		return nil, nil
	}
	return ipfilter.New(ipfilter.Options{Allow: f.Allow, Deny: f.Deny}, s.Funnel.Fail)
}

func buildCORS(s *Scope) (func(http.Handler) http.Handler, error) {
	if s.Route.CORS == nil {
		return nil, nil
	}
	return cors.New(config.CORSOptions(s.Route.CORS))
}

func buildRequestLimits(s *Scope) (func(http.Handler) http.Handler, error) {
	l := s.Route.RequestLimits
	if l == nil {
		return nil, nil
	}
	return reqlimit.New(reqlimit.Options{MaxHeaderBytes: int(l.MaxHeaderBytes), MaxURIBytes: int(l.MaxURIBytes), Methods: l.Methods}, s.Funnel.Fail), nil
}

func buildAuth(s *Scope) (func(http.Handler) http.Handler, error) {
	a := s.Route.Auth
	if a == nil {
		return nil, nil
	}
	o := auth.Options{UserHeader: a.UserHeader, MethodHeader: a.MethodHeader, ClaimHeaders: a.ClaimHeaders, ClaimsPrefix: a.ClaimsPrefix}
	for _, name := range a.Use {
		m := s.Authenticators[name]
		if m == nil {
			return nil, fmt.Errorf("auth: no authenticator %q", name)
		}
		o.Methods = append(o.Methods, m)
	}
	return auth.New(o, s.Funnel.Fail), nil
}

// Authenticators builds the config's named authenticators, reading the
// files they name, once per runtime: the routes using one share it (its
// verified-credential cache, its bound on concurrent hash checks).
// keySets are the jwt authenticators' JWKS key sets by authenticator
// name, which outlive the runtime.
// log hears what a method notices outside the funnel (a forward auth
// service failing while on_error is allow).
func Authenticators(c *config.Config, keySets map[string]*auth.KeySet, log *slog.Logger) (map[string]auth.Method, error) {
	ms := make(map[string]auth.Method, len(c.Authenticators))
	for name, a := range c.Authenticators {
		m, err := authMethod(a, keySets[name], log.With("authenticator", name))
		if err != nil {
			return nil, fmt.Errorf("authenticator %q: %w", name, err)
		}
		ms[name] = m
	}
	return ms, nil
}

// authMethod builds one authenticator.
func authMethod(c *config.Authenticator, ks *auth.KeySet, log *slog.Logger) (auth.Method, error) {
	switch {
	case c == nil:
		return nil, fmt.Errorf("no such authenticator")
	case c.Forward != nil:
		o, err := config.ForwardOptions(c.Forward)
		if err != nil {
			return nil, err
		}
		o.Logger = log
		return auth.NewForward(o)
	case c.JWT != nil:
		o, err := config.JWTOptions(c.JWT)
		if err != nil {
			return nil, err
		}
		if c.JWT.JWKS != nil {
			if ks == nil {
				return nil, fmt.Errorf("jwks: the key set was not made")
			}
			o.KeySet = ks
		}
		return auth.NewJWT(o)
	case c.Basic != nil:
		users := maps.Clone(c.Basic.Users)
		if users == nil {
			users = map[string]string{}
		}
		if c.Basic.Htpasswd != "" {
			more, err := config.ReadHtpasswd(c.Basic.Htpasswd)
			if err != nil {
				return nil, err
			}
			maps.Copy(users, more)
		}
		return auth.NewBasic(auth.BasicOptions{Realm: c.Basic.Realm, Users: users})
	default:
		k := c.APIKey
		o := auth.APIKeyOptions{Header: k.Header, Query: k.Query, Cookie: k.Cookie, Forward: k.Forward}
		if o.Header == "" && o.Query == "" && o.Cookie == "" {
			o.Header = "X-API-Key"
		}
		keys := slices.Clone(k.Keys)
		if k.KeysFile != "" {
			more, err := config.ReadAPIKeys(k.KeysFile)
			if err != nil {
				return nil, err
			}
			keys = append(keys, more...)
		}
		for _, e := range keys {
			o.Keys = append(o.Keys, auth.Key{SHA256: e.SHA256, Identity: e.Identity, Routes: e.Routes})
		}
		return auth.NewAPIKey(o)
	}
}

// buildRateLimit builds a route's limits of one kind: those whose key
// needs no identity run before authentication (so failed logins count
// too, as nginx's limit_req runs before its auth), those keyed by the
// identity or a claim after it.
func buildRateLimit(identity bool) func(s *Scope) (func(http.Handler) http.Handler, error) {
	return func(s *Scope) (func(http.Handler) http.Handler, error) { return rateLimits(s, identity) }
}

func rateLimits(s *Scope, identity bool) (func(http.Handler) http.Handler, error) {
	if len(s.Route.RateLimit) == 0 {
		return nil, nil
	}
	ls := make([]ratelimit.Limit, 0, len(s.Route.RateLimit))
	for _, c := range s.Route.RateLimit {
		count, period, err := config.ParseRate(c.Rate)
		if err != nil {
			return nil, fmt.Errorf("rate_limit %q: %w", c.Name, err)
		}
		key, err := ratelimit.ParseKey(c.Key, c.IPv4Prefix, c.IPv6Prefix)
		if err != nil {
			return nil, fmt.Errorf("rate_limit %q: %w", c.Name, err)
		}
		if key.NeedsIdentity() != identity {
			continue
		}
		var st rlstore.Store
		if c.Store == "" {
			st = s.Local()
		} else if st = s.Limiters[c.Store]; st == nil {
			return nil, fmt.Errorf("rate_limit %q: no rate limit store %q", c.Name, c.Store)
		}
		ls = append(ls, ratelimit.Limit{
			Name: c.Name,
			// The route and limit names: stable across reloads and the
			// same in every instance sharing a store.
			Policy:  s.Route.Name + "\x00" + c.Name,
			Key:     key,
			Rate:    gcra.Per(count, period, int64(c.Burst)),
			Store:   st,
			Refuse:  c.Missing == "refuse",
			Headers: c.Headers == nil || *c.Headers,
		})
	}
	if len(ls) == 0 {
		return nil, nil
	}
	return ratelimit.New(ratelimit.Options{Limits: ls}, s.Funnel.Fail), nil
}

func buildBodyLimit(s *Scope) (func(http.Handler) http.Handler, error) {
	limit := int64(s.Config.Limits.MaxBodyBytes)
	if s.Route.MaxBodyBytes != nil {
		limit = int64(*s.Route.MaxBodyBytes)
	}
	return bodylimit.New(bodylimit.Options{Max: limit}, s.Funnel.Fail), nil
}

func buildRequestHeaders(s *Scope) (func(http.Handler) http.Handler, error) {
	ops, err := headers.Compile(headerSpec(s.Route.RequestHeaders))
	if err != nil {
		return nil, fmt.Errorf("request_headers: %w", err)
	}
	return headers.Request(ops), nil
}

func buildResponseHeaders(s *Scope) (func(http.Handler) http.Handler, error) {
	ops, err := headers.Compile(headerSpec(s.Route.ResponseHeaders))
	if err != nil {
		return nil, fmt.Errorf("response_headers: %w", err)
	}
	return headers.Response(ops), nil
}

func headerSpec(c config.HeaderOps) headers.Spec {
	return headers.Spec{Remove: c.Remove, Set: c.Set, Add: c.Add}
}

func buildCache(s *Scope) (func(http.Handler) http.Handler, error) {
	c := s.Route.Cache
	if c == nil {
		return nil, nil
	}
	st := s.Caches[c.Store]
	if st == nil {
		return nil, fmt.Errorf("cache: no store %q", c.Store)
	}
	var purge []netip.Prefix
	for _, p := range c.PurgeFrom {
		if pfx, err := config.ParsePrefix(p); err == nil {
			purge = append(purge, pfx)
		}
	}
	o := cache.Options{
		Store: st,
		Key: cache.KeyOptions{
			Query:        c.Key.Query,
			IgnoreParams: c.Key.IgnoreParams,
			Headers:      c.Key.Headers,
			Cookies:      c.Key.Cookies,
		},
		BypassCookies: c.Bypass.Cookies,
		BypassHeaders: c.Bypass.Headers,
		PurgeFrom:     purge,
		LockTimeout:   c.LockTimeout.D(),
		Fail:          s.Funnel.Fail,
		Log:           s.Log,
	}
	// Vary: Accept-Encoding keeps one variant per coding the route's
	// compression would pick, not one per browser's spelling of it.
	prefer := compress.DefaultEncodings()
	if s.Route.Compress != nil {
		prefer = s.Route.Compress.Encodings
	}
	o.NormalizeEncoding = func(ae string) string { return compress.Negotiate(ae, prefer) }
	return cache.New(o), nil
}

func buildCompress(s *Scope) (func(http.Handler) http.Handler, error) {
	c := s.Route.Compress
	if c == nil {
		return nil, nil
	}
	mw, err := compress.New(compress.Options{
		Encodings: c.Encodings,
		Levels:    c.Levels,
		Types:     c.Types,
		MinBytes:  int64(c.MinBytes),
	})
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return mw, nil
}
