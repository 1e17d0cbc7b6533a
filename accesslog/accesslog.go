// Package accesslog writes one structured line per request.
package accesslog

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Middleware logs every request that passes through it to log, at info
// level, after the response ends (also when the handler panics to abort
// it). The request must carry a reqinfo.Info. A nil log disables logging.
//
// The line's duration is a number of seconds (0.001788), from when the
// request arrived until its response ended, in every log format: log tools
// read it as a number in a known unit, which slog's own duration (integer
// nanoseconds in JSON, "1.788ms" in text) is not.
func Middleware(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if log == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &wrap.Writer{}
			rec.Reset(w, nil)
			defer func() { write(log, r, rec) }()
			next.ServeHTTP(rec, r)
		})
	}
}

func write(log *slog.Logger, r *http.Request, rec *wrap.Writer) {
	info := reqinfo.From(r.Context())
	status := rec.Status()
	switch {
	case info.Err != nil && funnel.Status(info.Err) == funnel.StatusClientClosed:
		status = funnel.StatusClientClosed
	case info.Status != 0:
		status = info.Status // the funnel's answer, also when a gRPC client got it as a grpc-status in a 200
	case status == 0 && info.Upgraded:
		status = http.StatusSwitchingProtocols
	case status == 0 && info.Err != nil:
		status = funnel.Status(info.Err) // aborted mid-response
	case status == 0:
		status = http.StatusOK
	}
	attrs := [...]slog.Attr{
		slog.String("client_ip", info.ClientIP.String()),
		slog.String("method", r.Method),
		slog.String("host", r.Host),
		slog.String("path", redact(requestTarget(r), info.SecretParams)),
		slog.String("proto", r.Proto),
		slog.Int("status", status),
		slog.Int64("bytes", rec.Bytes()),
		slog.Float64("duration", time.Since(info.Start).Seconds()),
		slog.String("route", info.Route),
		slog.String("upstream", info.Upstream),
		slog.String("target", info.Target),
		slog.String("request_id", info.RequestID),
	}
	all := attrs[:]
	if id := info.Identity; id != nil {
		all = append(all, slog.String("user", id.User), slog.String("auth", id.Method))
	}
	if info.Err != nil {
		all = append(all, slog.String("error", info.Err.Error()))
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, "request", all...)
}

// redact replaces the values of the named query parameters in target.
func redact(target string, params []string) string {
	if len(params) == 0 {
		return target
	}
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return target
	}
	parts := strings.Split(query, "&")
	for i, part := range parts {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil && slices.Contains(params, n) {
			parts[i] = name + "=REDACTED"
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

// requestTarget is the path and query as the client sent them.
func requestTarget(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}
