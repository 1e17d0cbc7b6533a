// Package reqinfo holds the facts Gatehouse learns about one request while
// it is served: who sent it, its ID, the route and target it went to and
// how it ended. The root handler creates an Info; middleware, the
// forwarder and the error funnel fill in what they learn; the access log
// reads it when the request ends. It sits at the bottom of the import
// graph so that every layer can share it.
package reqinfo

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// Info is what Gatehouse knows about one request. It belongs to one
// request and is not safe for concurrent use.
type Info struct {
	Start time.Time
	// Peer is the address of the TCP peer; ClientIP the client address
	// after trusted-proxy resolution; Trusted whether the forwarding headers
	// the peer sent are believed (it is a trusted proxy, and with
	// trusted_hops the chain was long enough).
	Peer     netip.Addr
	ClientIP netip.Addr
	Trusted  bool
	// Scheme is "http" or "https", as the client connected to Gatehouse.
	Scheme    string
	RequestID string
	// Path is the normalized request path used for routing (still escaped).
	Path string
	// Route is the name of the matched route; Upstream and Target the pool
	// and the last target tried, empty when none.
	Route    string
	Upstream string
	Target   string
	// Attempts counts tries of upstream targets.
	Attempts int
	// Upgraded is set when the connection switched protocols (101).
	Upgraded bool
	// Identity is who the route's authentication admitted the request
	// as; nil when the route has none.
	Identity *Identity
	// SecretParams name query parameters that carry credentials (an API
	// key): the access log shows their values as REDACTED.
	SecretParams []string
	// Err is the cause of a failed request, set by the error funnel.
	Err error
	// Status is the HTTP status the funnel answered a failed request
	// with, 0 if none. A gRPC client gets it as a grpc-status in a 200
	// response, so the access log should record this one.
	Status int

	// IDHeader is the request ID as a header value, kept here so the
	// response header can share it without an allocation of its own.
	IDHeader [1]string

	// outbound are the edits middleware asks for on the request header
	// sent upstream, applied in order after the forwarding headers. A
	// small inline array: most routes have none or one.
	outbound [2]OutboundEditor
	extra    []OutboundEditor
	nOut     int
}

// Identity is who a request was authenticated as.
type Identity struct {
	// Method is the kind that admitted it: "basic", "api_key", "jwt" or
	// "forward".
	Method string
	// User names the client: the user name, the API key's identity, the
	// token's subject.
	User string
	// Claims are further facts the method vouches for (a token's claims,
	// flattened to strings); nil when none.
	Claims map[string]string
	// Headers are header fields the method vouches for, set as they are
	// on the request sent upstream (forward auth's copies of its
	// service's response headers): canonical names, values free of
	// control characters. Nil when none; shared between requests, so
	// never modified.
	Headers http.Header
}

// OutboundEditor edits the header of the request sent upstream. h is the
// outbound header (value slices may be shared with the inbound request and
// must be replaced, never written to); r is the inbound request.
type OutboundEditor interface {
	EditOutbound(h http.Header, r *http.Request)
}

// AddOutbound asks the forwarder to apply e to the outbound request
// header. Middleware uses it to pass facts (an identity, rewritten
// headers) upstream without copying the inbound request.
func (i *Info) AddOutbound(e OutboundEditor) {
	if i.nOut < len(i.outbound) {
		i.outbound[i.nOut] = e
	} else {
		i.extra = append(i.extra, e)
	}
	i.nOut++
}

// EditOutbound applies the edits added with AddOutbound, in order.
func (i *Info) EditOutbound(h http.Header, r *http.Request) {
	for k := 0; k < i.nOut; k++ {
		if k < len(i.outbound) {
			i.outbound[k].EditOutbound(h, r)
		} else {
			i.extra[k-len(i.outbound)].EditOutbound(h, r)
		}
	}
}

// URLEditor is an OutboundEditor that also edits the URL of the request
// sent upstream (its query: an API key to remove, say).
type URLEditor interface {
	EditOutboundURL(u *url.URL)
}

// EditOutboundURL applies, in order, the edits added with AddOutbound
// that are URLEditors to the outbound URL u.
func (i *Info) EditOutboundURL(u *url.URL) {
	for k := 0; k < i.nOut; k++ {
		e := i.extraOr(k)
		if ue, ok := e.(URLEditor); ok {
			ue.EditOutboundURL(u)
		}
	}
}

func (i *Info) extraOr(k int) OutboundEditor {
	if k < len(i.outbound) {
		return i.outbound[k]
	}
	return i.extra[k-len(i.outbound)]
}

type infoKey struct{}

// With returns a context carrying info.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// NewContext returns a context carrying a new, zero Info, and the Info:
// one allocation for both, for the root handler of every request. When
// parent has room for the Info (Gatehouse's HTTP/1.1 engine's request
// context, an Attacher), the Info goes there and parent itself is
// returned: the caller then needs no new request for a new context.
func NewContext(parent context.Context) (context.Context, *Info) {
	if a, ok := parent.(Attacher); ok {
		info := new(Info)
		if a.Attach(infoKey{}, info) {
			return parent, info
		}
	}
	c := &infoCtx{Context: parent}
	return c, &c.info
}

// Attacher is a context with room for one value set after it was made:
// Attach makes Value(key) return val, or reports false when the room is
// taken.
type Attacher interface {
	context.Context
	Attach(key, val any) bool
}

// infoCtx is a context holding an Info, as context.WithValue would, but
// allocated together with it.
type infoCtx struct {
	context.Context
	info Info
}

func (c *infoCtx) Value(key any) any {
	if key == (infoKey{}) {
		return &c.info
	}
	return c.Context.Value(key)
}

// From returns the request's Info. It never returns nil: a request that
// did not pass through the root handler (a test, say) gets a fresh Info.
func From(ctx context.Context) *Info {
	if c, ok := ctx.(*infoCtx); ok {
		return &c.info // the common case: no walk up the context chain
	}
	if info, ok := ctx.Value(infoKey{}).(*Info); ok {
		return info
	}
	return &Info{Start: time.Now(), Scheme: "http"}
}

// Detach returns a context carrying a copy of info, for work done on
// the request's behalf after it ended (a background revalidation): the
// copy keeps who sent the request and the outbound edits, and starts
// with no error, status or attempts of its own. The parent should be
// context.WithoutCancel of the request's.
func Detach(parent context.Context, info *Info) (context.Context, *Info) {
	c := &infoCtx{Context: parent, info: *info}
	c.info.extra = append([]OutboundEditor(nil), info.extra...)
	c.info.Err, c.info.Status, c.info.Attempts = nil, 0, 0
	c.info.Target, c.info.Upgraded = "", false
	return c, &c.info
}
