package gateway

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/middleware"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
	"github.com/gatehouse-proxy/gatehouse/respond"
	"github.com/gatehouse-proxy/gatehouse/router"
	"github.com/gatehouse-proxy/gatehouse/static"
)

// compileRoutes builds every route's handler chain and the router.
func (rt *Runtime) compileRoutes() error {
	rules := make([]router.Rule[*route], 0, len(rt.Config.Routes))
	for i := range rt.Config.Routes {
		rc := &rt.Config.Routes[i]
		r, err := rt.compileRoute(rc)
		if err != nil {
			return fmt.Errorf("route %q: %w", rc.Name, err)
		}
		rules = append(rules, router.Rule[*route]{
			Hosts:   rc.Match.Host,
			Prefix:  rc.Match.Path,
			Methods: rc.Match.Methods,
			Headers: headerConds(rc.Match.Headers),
			Cond:    tlsCond(rc.Match.TLS),
			Value:   r,
		})
	}
	rtr, err := router.New(rules)
	if err != nil {
		return err
	}
	rt.router = rtr
	if dc := rt.Config.DefaultRoute; dc != nil {
		r, err := rt.compileRoute(dc)
		if err != nil {
			return fmt.Errorf("default_route: %w", err)
		}
		rt.def = r
	}
	return nil
}

func headerConds(m map[string]string) []router.Header {
	var hs []router.Header
	for k, v := range m {
		hs = append(hs, router.Header{Name: textproto.CanonicalMIMEHeaderKey(k), Value: v})
	}
	return hs
}

// compileRoute builds one route's action wrapped in its Route-stage
// middleware, in the table's order.
func (rt *Runtime) compileRoute(rc *config.Route) (*route, error) {
	rewrite := compileRewrite(rc.Rewrite)
	var h http.Handler
	switch {
	case rc.Upstream != "":
		ph, err := rt.proxyHandler(rc, rewrite)
		if err != nil {
			return nil, err
		}
		h = ph
	case rc.Static != nil:
		sh, err := static.New(static.Options{
			Root:         rc.Static.Root,
			Index:        rc.Static.Index,
			Browse:       rc.Static.Browse,
			CacheControl: rc.Static.CacheControl,
			Path:         routedPath(rewrite),
			Fail:         rt.funnel.Fail,
		})
		if err != nil {
			return nil, err
		}
		rt.components = append(rt.components, sh)
		h = sh
	case rc.Redirect != nil:
		rd := &respond.Redirect{To: rc.Redirect.To, Status: rc.Redirect.Status}
		if rc.Redirect.AppendPath {
			rd.Path = routedPath(rewrite)
		}
		h = rd
	case rc.Respond != nil:
		h = respond.NewFixed(rc.Respond.Status, rc.Respond.Headers, rc.Respond.Body)
	default:
		return nil, fmt.Errorf("route has no action")
	}
	h, err := middleware.Chain(middleware.Route, rt.scope(rc), h)
	if err != nil {
		return nil, err
	}
	return &route{name: rc.Name, handler: h}, nil
}

// proxyHandler builds the forwarding handler for a route with an upstream,
// creating a single-target pool when the upstream is written as a URL.
func (rt *Runtime) proxyHandler(rc *config.Route, rewrite func(string) string) (*proxy.Handler, error) {
	pe, ok := rt.pools[rc.Upstream]
	if !ok && strings.Contains(rc.Upstream, "://") {
		if err := rt.addPool(rc.Upstream, config.NewUpstream(rc.Upstream)); err != nil {
			return nil, err
		}
		pe = rt.pools[rc.Upstream]
	} else if !ok {
		return nil, fmt.Errorf("unknown upstream %q", rc.Upstream)
	}
	return &proxy.Handler{
		Pool:       pe.pool,
		Forwarder:  pe.fwd,
		Forwarding: rt.forwarding,
		Funnel:     rt.funnel,
		Rewrite:    rewrite,
		HostHeader: rc.HostHeader,
	}, nil
}

// routedPath returns the path a local action (static, redirect) works on:
// the normalized path, rewritten.
func routedPath(rewrite func(string) string) func(r *http.Request) string {
	return func(r *http.Request) string {
		p := reqinfo.From(r.Context()).Path
		if rewrite != nil {
			p = rewrite(p)
		}
		return p
	}
}

// compileRewrite returns the path rewrite of a route, or nil for none.
// The input is a normalized path that matched the route, so a validated
// strip prefix always applies at a segment boundary.
func compileRewrite(rw config.Rewrite) func(string) string {
	strip, add := rw.StripPrefix, rw.AddPrefix
	if rw.ReplacePrefix != nil {
		strip, add = rw.ReplacePrefix.From, rw.ReplacePrefix.To
	}
	strip = strings.TrimSuffix(strip, "/")
	add = strings.TrimSuffix(add, "/")
	if strip == "" && add == "" {
		return nil
	}
	return func(p string) string {
		if strip != "" && strings.HasPrefix(p, strip) && (len(p) == len(strip) || p[len(strip)] == '/') {
			p = p[len(strip):]
		}
		p = add + p
		if p == "" {
			p = "/"
		}
		return p
	}
}
