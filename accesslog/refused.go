package accesslog

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// Refused writes the access-log line of a request no handler saw (see
// funnel.Refusal), with the fields of every other line so that one query
// finds all refusals: no method, path or route, since the request never
// parsed.
func Refused(log *slog.Logger, r funnel.Refusal) {
	if log == nil {
		return
	}
	client := r.Peer
	if ap, err := netip.ParseAddrPort(r.Peer); err == nil {
		client = ap.Addr().Unmap().String()
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("client_ip", client),
		slog.String("method", ""),
		slog.String("host", ""),
		slog.String("path", ""),
		slog.String("proto", r.Proto),
		slog.Int("status", r.Status),
		slog.Int64("bytes", 0),
		slog.Float64("duration", 0),
		slog.String("route", ""),
		slog.String("listener", r.Listener),
		slog.String("error", r.Reason),
	)
}
