package gateway

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Listener is what a request's handling needs to know about the listener
// it arrived on. The server attaches one to every connection's context
// (WithListener); requests without one are treated as from a plain
// listener that does not redirect.
type Listener struct {
	// Name of the listener, for logs.
	Name string
	// RedirectHTTPS sends plain HTTP requests for hosts that have a
	// certificate to HTTPS.
	RedirectHTTPS bool
	// HTTPSPort returns the port of the TLS listener redirects go to, ""
	// when there is none. It is read per redirect, since a reload may add
	// or move the TLS listener while this one stays.
	HTTPSPort func() string
}

type listenerKey struct{}

// WithListener returns ctx carrying l, for http.Server.ConnContext.
func WithListener(ctx context.Context, l *Listener) context.Context {
	return context.WithValue(ctx, listenerKey{}, l)
}

func listenerFrom(ctx context.Context) *Listener {
	l, _ := ctx.Value(listenerKey{}).(*Listener)
	return l
}

// acmeChallengePrefix is where HTTP-01 challenges are requested (RFC 8555
// section 8.3); such requests are never redirected.
const acmeChallengePrefix = "/.well-known/acme-challenge/"

// plainHTTP answers what a plain HTTP request may need before routing: an
// ACME HTTP-01 challenge, or the redirect to HTTPS. It reports whether it
// answered.
func (rt *Runtime) plainHTTP(w http.ResponseWriter, r *http.Request, info *reqinfo.Info) bool {
	if strings.HasPrefix(info.Path, acmeChallengePrefix) {
		if rt.env.TLS.HandleHTTPChallenge(w, r) {
			info.Route = "acme-challenge"
			return true
		}
		return false
	}
	if !rt.anyCerts {
		return false
	}
	l := listenerFrom(r.Context())
	if l == nil || !l.RedirectHTTPS {
		return false
	}
	host := hostOnly(r.Host)
	if !redirectable(host) || !rt.certs.Covers(host) {
		return false
	}
	port := l.HTTPSPort()
	if port == "" {
		return false
	}
	if port != "443" {
		host = net.JoinHostPort(host, port)
	} else if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]" // an IPv6 literal
	}
	info.Route = "https-redirect"
	// A raw "#" is data in a request target but a fragment in a URL.
	rt.funnel.Redirect(w, r, http.StatusPermanentRedirect, "https://"+host+strings.ReplaceAll(r.URL.RequestURI(), "#", "%23"))
	return true
}

// redirectable reports whether host can stand in an https URL as it is:
// an IP address or a DNS name. Host headers may hold more (such as "%"),
// which a wildcard certificate would cover label-wise but which would
// make the Location invalid.
func redirectable(host string) bool {
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host[0] == '.' || host[len(host)-1] == '.' || strings.Contains(host, "..") {
		return false // an empty label
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// hostOnly returns the lower-case host of a Host header value, without
// the port, the IPv6 brackets and a trailing dot, or "" if it is
// malformed (an IPv6 address must be bracketed; a port is digits).
func hostOnly(hostport string) string {
	h := hostport
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return ""
		}
		if rest := h[end+1:]; rest != "" && (rest[0] != ':' || !isDigits(rest[1:])) {
			return ""
		}
		h = h[1:end]
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		if !isDigits(h[i+1:]) {
			return ""
		}
		h = h[:i]
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// isDigits reports whether s is empty or all ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validHost reports whether a Host (or :authority) has only the bytes
// net/http's HTTP/1.1 server accepts in one (httpguts.ValidHostHeader).
// Its HTTP/2 server (h2c included) and quic-go's HTTP/3 server check
// less: they let "/", "?", "#", a backslash and non-ASCII bytes through,
// with which a name under a wildcard certificate ("1869573999/.site.test")
// would make the HTTPS redirect point at another host.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!$%&'()*+,-.:;=[]_~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// hsts holds the compiled Strict-Transport-Security policies: the header
// value per exact host, then per wildcard suffix (longest first). Values
// are ready-made header slices, shared by every response (never modified).
type hsts struct {
	exact map[string][]string
	wild  []hstsWild
}

type hstsWild struct {
	suffix string // ".example.com"
	value  []string
}

func compileHSTS(ps []config.HSTS) *hsts {
	if len(ps) == 0 {
		return nil
	}
	h := &hsts{exact: map[string][]string{}}
	for _, p := range ps {
		v := "max-age=" + strconv.FormatInt(int64(p.MaxAge.D()/time.Second), 10)
		if p.IncludeSubdomains {
			v += "; includeSubDomains"
		}
		if p.Preload {
			v += "; preload"
		}
		for _, host := range p.Hosts {
			host = strings.ToLower(host)
			if s, ok := strings.CutPrefix(host, "*"); ok {
				h.wild = append(h.wild, hstsWild{suffix: s, value: []string{v}})
			} else if _, dup := h.exact[host]; !dup {
				h.exact[host] = []string{v}
			}
		}
	}
	// Longest suffix first, so the most specific policy wins.
	slices.SortStableFunc(h.wild, func(a, b hstsWild) int { return len(b.suffix) - len(a.suffix) })
	return h
}

// value returns the header for host (nil for none).
func (h *hsts) value(host string) []string {
	if v, ok := h.exact[host]; ok {
		return v
	}
	for _, w := range h.wild {
		if len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) {
			return w.value
		}
	}
	return nil
}
