package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Errors that map to statuses in the funnel. Lower layers wrap them.
var (
	// ErrNoRoute: no route matched and there is no default route (404).
	ErrNoRoute = errors.New("no route matches the request")
	// ErrBadRequest: the request cannot be routed safely, e.g. a path with
	// an invalid escape or a NUL (400).
	ErrBadRequest = errors.New("malformed request")
	// ErrBodyTooLarge: the declared body exceeds the limit (413).
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrConnLimit: every connection to the target allowed by max_conns
	// stayed busy for the dial timeout (503).
	ErrConnLimit = errors.New("no free connection to the target (max_conns reached)")
	// ErrBodyTimeout: the client stopped sending its body (408).
	ErrBodyTimeout = errors.New("the client stopped sending the request body")
	// ErrForbidden: the route requires what the request lacks, such as a
	// verified client certificate (403).
	ErrForbidden = errors.New("forbidden")
	// ErrUpgradeH2C: a protocol upgrade (WebSocket) was asked of an h2c
	// upstream; HTTP/2 has no Upgrade, so it cannot be passed on (502).
	ErrUpgradeH2C = errors.New("cannot pass a protocol upgrade (WebSocket) to h2c targets, which speak HTTP/2 only; use http:// or https:// targets for this route")
)

// NoHealthyError says an upstream had no target to try (503).
type NoHealthyError struct {
	Upstream string
	Targets  int
}

func (e *NoHealthyError) Error() string {
	return fmt.Sprintf("upstream %q has no healthy target (0 of %d available)", e.Upstream, e.Targets)
}

// StatusClientClosed is logged (never sent) when the client went away
// before the answer was complete, as nginx does.
const StatusClientClosed = 499

// Status maps an error to the status code the client gets.
func Status(err error) int {
	var fe *Error
	var nh *NoHealthyError
	var mb *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &fe) && fe.ClientGone:
		return StatusClientClosed
	case errors.Is(err, ErrNoRoute):
		return http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrBodyTooLarge), errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBodyTimeout):
		return http.StatusRequestTimeout
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.As(err, &nh), errors.Is(err, ErrConnLimit):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return StatusClientClosed
	}
	return http.StatusBadGateway
}

var messages = map[int]string{
	http.StatusBadRequest:            "bad request",
	http.StatusNotFound:              "no route for this request",
	http.StatusForbidden:             "forbidden: a verified client certificate is required",
	http.StatusRequestEntityTooLarge: "request body too large",
	http.StatusRequestTimeout:        "request timeout: the request body stopped arriving",
	http.StatusBadGateway:            "bad gateway: the upstream could not be reached or sent a broken response",
	http.StatusServiceUnavailable:    "service unavailable: no healthy upstream target",
	http.StatusGatewayTimeout:        "gateway timeout: the upstream did not answer in time",
}

// Funnel is the one place failures become responses and log lines. Lower
// layers return wrapped errors; handlers pass them to Fail.
type Funnel struct {
	// Log receives one line per failure. Nil discards.
	Log *slog.Logger
	// RequestIDHeader is kept on error responses; every other header a
	// failed attempt may have set is dropped.
	RequestIDHeader string
}

// Fail answers a failed request and logs why. If the response was already
// under way it is cut short (the client sees a truncated response, never a
// wrong one).
func (f *Funnel) Fail(w http.ResponseWriter, r *http.Request, err error) {
	info := InfoFrom(r.Context())
	info.Err = err
	status := Status(err)
	f.log(r, info, status, err)
	var fe *Error
	committed := errors.As(err, &fe) && fe.Phase == PhaseResponse
	if committed && status != StatusClientClosed && endGRPC(w, r, status) {
		return
	}
	if committed || status == StatusClientClosed {
		// Abort the connection: after a partial response so the client
		// cannot mistake a truncated body for a complete one; when the
		// client went away (or only half-closed its side) so that it
		// never sees the empty 200 net/http would otherwise send.
		panic(http.ErrAbortHandler)
	}
	info.Status = status
	f.write(w, r, status)
}

func (f *Funnel) write(w http.ResponseWriter, r *http.Request, status int) {
	h := w.Header()
	for k := range h {
		if k != f.RequestIDHeader {
			delete(h, k)
		}
	}
	msg := messageOf(status)
	if ct, ok := grpcContentType(r.Header); ok {
		writeGRPC(w, ct, status, msg)
		return
	}
	var body string
	if wantsJSON(r.Header["Accept"]) {
		h["Content-Type"] = []string{"application/json"}
		body = `{"status":` + strconv.Itoa(status) + `,"error":` + strconv.Quote(msg) +
			`,"request_id":` + strconv.Quote(InfoFrom(r.Context()).RequestID) + "}\n"
	} else {
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		body = strconv.Itoa(status) + " " + msg + "\n"
	}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

// messageOf is the text an error response carries for status.
func messageOf(status int) string {
	if msg := messages[status]; msg != "" {
		return msg
	}
	return strings.ToLower(http.StatusText(status))
}

func wantsJSON(accept []string) bool {
	for _, a := range accept {
		if strings.Contains(a, "application/json") || strings.Contains(a, "+json") {
			return true
		}
	}
	return false
}

func (f *Funnel) log(r *http.Request, info *Info, status int, err error) {
	if f.Log == nil {
		return
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case status == StatusClientClosed:
		level = slog.LevelInfo
	}
	f.Log.LogAttrs(r.Context(), level, "request failed",
		slog.Int("status", status),
		slog.String("route", info.Route),
		slog.String("upstream", info.Upstream),
		slog.String("target", info.Target),
		slog.Int("attempts", info.Attempts),
		slog.String("method", r.Method),
		slog.String("host", r.Host),
		slog.String("path", r.URL.Path),
		slog.String("request_id", info.RequestID),
		slog.String("error", err.Error()),
	)
}
