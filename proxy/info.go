package proxy

import (
	"context"
	"net/netip"
	"time"
)

// Info is what Gatehouse knows about one request while it is served. The
// root handler creates it, handlers fill in what they learn (route, target,
// error) and the access log reads it when the request ends. It belongs to
// one request and is not safe for concurrent use.
type Info struct {
	Start time.Time
	// Peer is the address of the TCP peer; ClientIP the client address
	// after trusted-proxy resolution; Trusted whether Peer is a trusted proxy.
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
	// Err is the cause of a failed request, set by the error funnel.
	Err error
	// Status is the HTTP status the funnel answered a failed request
	// with, 0 if none. A gRPC client gets it as a grpc-status in a 200
	// response, so the access log should record this one.
	Status int
}

type infoKey struct{}

// WithInfo returns a context carrying info.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// InfoFrom returns the request's Info. It never returns nil: a request that
// did not pass through the root handler (a test, say) gets a fresh Info.
func InfoFrom(ctx context.Context) *Info {
	if info, ok := ctx.Value(infoKey{}).(*Info); ok {
		return info
	}
	return &Info{Start: time.Now(), Scheme: "http"}
}
