package funnel

import (
	"net/http"
	"strconv"
	"strings"
)

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html)
// that Gatehouse's own errors map to.
const (
	grpcDeadlineExceeded  = 4
	grpcPermissionDenied  = 7
	grpcResourceExhausted = 8
	grpcUnimplemented     = 12
	grpcInternal          = 13
	grpcUnavailable       = 14
	grpcUnauthenticated   = 16
	grpcUnknown           = 2
)

// grpcCode maps the HTTP status of a failure Gatehouse answers itself to
// the gRPC status a client should see: the target unreachable or
// overloaded is UNAVAILABLE (which gRPC clients may retry), a timeout
// DEADLINE_EXCEEDED, no route UNIMPLEMENTED (as for an unknown method), as
// the gRPC HTTP-to-status mapping suggests.
func grpcCode(status int) int {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return grpcUnavailable
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return grpcDeadlineExceeded
	case http.StatusNotFound:
		return grpcUnimplemented
	case http.StatusMethodNotAllowed:
		return grpcUnimplemented
	case http.StatusUnauthorized:
		return grpcUnauthenticated
	case http.StatusForbidden:
		return grpcPermissionDenied
	case http.StatusRequestEntityTooLarge, http.StatusRequestHeaderFieldsTooLarge, http.StatusRequestURITooLong:
		return grpcResourceExhausted
	case http.StatusBadRequest:
		return grpcInternal
	}
	return grpcUnknown
}

// grpcContentType returns the request's Content-Type if it is a gRPC one
// (application/grpc, application/grpc+proto, application/grpc-web...).
func grpcContentType(h http.Header) (string, bool) {
	ct := h["Content-Type"]
	if len(ct) == 0 || !strings.HasPrefix(ct[0], "application/grpc") {
		return "", false
	}
	rest := ct[0][len("application/grpc"):]
	if rest != "" && rest[0] != '+' && rest[0] != ';' && rest[0] != '-' {
		return "", false // application/grpcfoo is something else
	}
	base, _, _ := strings.Cut(ct[0], ";")
	return strings.TrimSpace(base), true
}

// writeGRPC answers a gRPC request the way gRPC clients understand a
// failure: HTTP 200 with a trailers-only response carrying grpc-status and
// grpc-message, instead of an HTTP error status that clients would report
// as a confusing protocol error. Over HTTP/2 the header block ends the
// stream, which is what trailers-only means.
func writeGRPC(w http.ResponseWriter, contentType string, c *Class) {
	h := w.Header()
	h["Content-Type"] = []string{contentType}
	h["Grpc-Status"] = []string{strconv.Itoa(grpcCode(c.Status))}
	h["Grpc-Message"] = []string{grpcEscape("gatehouse: " + c.Message)}
	w.WriteHeader(http.StatusOK)
}

// endGRPC ends a gRPC response that broke off after its header was sent
// (the target went away mid-stream) with trailers carrying the status, so
// the client sees UNAVAILABLE with a reason rather than a reset stream. It
// reports false, doing nothing, for anything but a gRPC response to a
// gRPC request.
func endGRPC(w http.ResponseWriter, r *http.Request, c *Class) bool {
	if _, ok := grpcContentType(r.Header); !ok {
		return false
	}
	h := w.Header()
	if _, ok := grpcContentType(h); !ok {
		return false
	}
	h[http.TrailerPrefix+"Grpc-Status"] = []string{strconv.Itoa(grpcCode(c.Status))}
	h[http.TrailerPrefix+"Grpc-Message"] = []string{grpcEscape("gatehouse: the response from the upstream broke off: " + c.Message)}
	return true
}

// grpcEscape percent-encodes a grpc-message value: bytes outside printable
// ASCII, and "%" itself.
func grpcEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
