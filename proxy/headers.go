package proxy

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/internal/hop"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
)

// forwardingHeaders describe earlier hops. They are believed only from a
// trusted proxy; from anyone else they are dropped and written afresh.
// The list includes the scheme and client-IP spellings that common
// frameworks and CDNs read, so none of them can be forged through us.
var forwardingHeaders = [...]string{
	"Forwarded",
	"X-Forwarded-For",
	"X-Forwarded-Host",
	"X-Forwarded-Proto",
	"X-Forwarded-Port",
	"X-Forwarded-Prefix",
	"X-Forwarded-Server",
	"X-Forwarded-Ssl",
	"X-Forwarded-Scheme",
	"X-Forwarded-Protocol",
	"X-Original-Forwarded-For",
	"X-Url-Scheme",
	"Front-End-Https",
	"X-Real-Ip",
	"X-Client-Ip",
	"True-Client-Ip",
	"X-Cluster-Client-Ip",
}

func isForwarding(k string) bool {
	for _, h := range forwardingHeaders {
		if k == h {
			return true
		}
	}
	return false
}

// hasToken reports whether a comma-separated header contains tok.
func hasToken(vals []string, tok string) bool {
	for _, v := range vals {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

// upgradeType returns the protocol a request asks to switch to, or "".
func upgradeType(h http.Header) string {
	if !hasToken(h["Connection"], "upgrade") {
		return ""
	}
	return h.Get("Upgrade")
}

// Forwarding is the header policy for requests sent upstream.
type Forwarding struct {
	// Forwarded adds the RFC 7239 Forwarded header.
	Forwarded bool
	// Via adds a Via header to requests and responses.
	Via bool
	// RequestIDHeader is the canonical name of the request ID header.
	RequestIDHeader string
	// PassProxyAuthorization keeps Proxy-Authorization.
	PassProxyAuthorization bool
	// UnderscoresInHeaders forwards header names containing "_". They are
	// dropped by default, as nginx does: CGI-style backends (Rack, WSGI,
	// PHP) turn both "X-Forwarded-For" and "X_Forwarded_For" into
	// HTTP_X_FORWARDED_FOR, so the underscore spelling would forge it.
	UnderscoresInHeaders bool
	// ClientCertHeader, if set, is the canonical name of the header that
	// carries the subject of the client's verified certificate. Copies a
	// client sent are never forwarded, in any spelling.
	ClientCertHeader string
}

// outboundHeader builds the header sent upstream from the inbound one,
// without modifying it: hop-by-hop headers are dropped, forwarding headers
// from untrusted peers are dropped, and Gatehouse's own are added. Value
// slices are shared with the inbound header and must not be modified.
func (f *Forwarding) outboundHeader(r *http.Request, info *reqinfo.Info, upgrade string) http.Header {
	in := r.Header
	out := make(http.Header, len(in)+6)
	conn := in["Connection"]
	for k, vv := range in {
		if hop.Is(k) || (len(conn) > 0 && hop.Named(conn, k)) {
			continue
		}
		if !info.Trusted && isForwarding(k) {
			continue
		}
		if !f.UnderscoresInHeaders && strings.IndexByte(k, '_') >= 0 {
			continue
		}
		if f.ClientCertHeader != "" && f.isClientCertHeader(k) {
			continue
		}
		out[k] = vv
	}
	if f.ClientCertHeader != "" {
		// Set after the copy, so naming it in Connection cannot drop it.
		if s := tlsinfo.VerifiedSubject(r); s != "" {
			out[f.ClientCertHeader] = []string{s}
		}
	}
	if hasToken(in["Te"], "trailers") {
		out["Te"] = []string{"trailers"}
	}
	if upgrade != "" {
		out["Connection"] = []string{"Upgrade"}
		out["Upgrade"] = []string{upgrade}
	}
	if f.PassProxyAuthorization {
		if v, ok := in["Proxy-Authorization"]; ok {
			out["Proxy-Authorization"] = v
		}
	}
	// The values Gatehouse adds share one backing array, each slot
	// capped at one element, so an append by a later edit copies
	// instead of writing into a neighbour.
	vals := make([]string, 6)
	if _, ok := in["User-Agent"]; !ok {
		// An empty value stops net/http from adding its own User-Agent.
		out["User-Agent"] = vals[4:5:5]
	}
	f.addForwarding(out, r, info, vals[:4:4])
	vals[5] = info.RequestID
	out[f.RequestIDHeader] = vals[5:6:6]
	if f.Via {
		out["Via"] = appendValue(out["Via"], viaValue(r))
	}
	return out
}

// addForwarding writes X-Forwarded-*, X-Real-IP and optionally Forwarded,
// with its values in vals' four slots.
// From a trusted peer the incoming chain is extended; otherwise replaced
// (the untrusted copies were not copied into out).
func (f *Forwarding) addForwarding(out http.Header, r *http.Request, info *reqinfo.Info, vals []string) {
	one := func(i int, v string) []string { vals[i] = v; return vals[i : i+1 : i+1] }
	peer := peerString(r.RemoteAddr, info.Peer)
	prior := out["X-Forwarded-For"]
	switch {
	case len(prior) > 0:
		out["X-Forwarded-For"] = one(0, strings.Join(prior, ", ")+", "+peer)
	case info.Trusted && info.ClientIP != info.Peer && info.ClientIP.IsValid():
		// The client came from a Forwarded header only; keep it visible.
		out["X-Forwarded-For"] = one(0, info.ClientIP.String()+", "+peer)
	default:
		out["X-Forwarded-For"] = one(0, peer)
	}
	if _, ok := out["X-Forwarded-Proto"]; !ok {
		out["X-Forwarded-Proto"] = one(1, info.Scheme)
	}
	if _, ok := out["X-Forwarded-Host"]; !ok && r.Host != "" {
		out["X-Forwarded-Host"] = one(2, r.Host)
	}
	client := peer
	if info.ClientIP != info.Peer {
		client = info.ClientIP.String()
	}
	out["X-Real-Ip"] = one(3, client)
	if f.Forwarded {
		out["Forwarded"] = appendValue(out["Forwarded"], forwardedElement(info.Peer, r.Host, info.Scheme))
	}
}

// peerString is the peer's address as text: for an IPv4 peer the host
// part of RemoteAddr as the socket layer wrote it (no allocation), else
// the parsed address's canonical form.
func peerString(remote string, peer netip.Addr) string {
	if peer.Is4() {
		if i := strings.LastIndexByte(remote, ':'); i > 0 && strings.IndexByte(remote[:i], ':') < 0 {
			return remote[:i]
		}
	}
	return peer.String()
}

// forwardedElement formats one RFC 7239 element for this hop.
func forwardedElement(peer netip.Addr, host, proto string) string {
	var b strings.Builder
	b.WriteString("for=")
	if peer.Is6() {
		b.WriteString(`"[` + peer.String() + `]"`)
	} else {
		b.WriteString(peer.String())
	}
	if host != "" {
		b.WriteString(";host=")
		b.WriteString(quoteIfNeeded(host))
	}
	b.WriteString(";proto=")
	b.WriteString(proto)
	return b.String()
}

// quoteIfNeeded quotes a Forwarded parameter value that is not a token.
func quoteIfNeeded(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return `"` + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`) + `"`
		}
	}
	return v
}

func viaValue(r *http.Request) string {
	switch r.ProtoMajor {
	case 2:
		return "2 gatehouse"
	case 3:
		return "3 gatehouse"
	}
	return "1.1 gatehouse"
}

// appendValue joins v onto an existing comma-separated header value.
func appendValue(prior []string, v string) []string {
	if len(prior) == 0 {
		return []string{v}
	}
	return []string{strings.Join(prior, ", ") + ", " + v}
}

// isClientCertHeader reports whether k is the client certificate header,
// also as spelled with underscores when those are forwarded (CGI-style
// backends read "X_Client_Subject" as "X-Client-Subject").
func (f *Forwarding) isClientCertHeader(k string) bool {
	if k == f.ClientCertHeader {
		return true
	}
	if len(k) != len(f.ClientCertHeader) || strings.IndexByte(k, '_') < 0 {
		return false
	}
	for i := 0; i < len(k); i++ {
		a, b := k[i], f.ClientCertHeader[i]
		if a == '_' {
			a = '-'
		}
		if a != b && a|0x20 != b|0x20 {
			return false
		}
	}
	return true
}

// CopyResponseHeader copies an upstream response header to the client's,
// dropping hop-by-hop headers. Values replace any already set.
//
// An Alt-Svc already in dst is the listener's HTTP/3 advertisement and
// wins: a target's own Alt-Svc names the target's endpoints, which are not
// this origin's.
func CopyResponseHeader(dst, src http.Header) {
	conn := src["Connection"]
	for k, vv := range src {
		if hop.Is(k) || (len(conn) > 0 && hop.Named(conn, k)) {
			continue
		}
		if k == "Alt-Svc" && dst[k] != nil {
			continue
		}
		dst[k] = vv
	}
}

// HasToken reports whether a comma-separated header's values contain tok
// (case-insensitively), as Connection and Transfer-Encoding list theirs.
func HasToken(vals []string, tok string) bool { return hasToken(vals, tok) }
