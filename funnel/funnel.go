// Package funnel is the one place where failures become answers: every
// handler and middleware that refuses or fails a request passes an error
// to Fail, which picks the status from the error's Class, answers in the
// form the client understands (text, JSON or a gRPC status) and writes one
// log line that says why. Lower layers never write error responses or log
// failures themselves; they return wrapped errors.
package funnel

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/internal/hop"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Funnel answers failed requests. Its fields are set once; it is safe for
// concurrent use.
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
	info := reqinfo.From(r.Context())
	info.Err = err
	c := Classify(err)
	f.log(r, info, c.Status, err)
	started := committed(err)
	if started && c.Status != StatusClientClosed && endGRPC(w, r, c) {
		return
	}
	if started || c.Status == StatusClientClosed {
		// Abort the connection: after a partial response so the client
		// cannot mistake a truncated body for a complete one; when the
		// client went away (or only half-closed its side) so that it
		// never sees the empty 200 net/http would otherwise send.
		panic(http.ErrAbortHandler)
	}
	info.Status = c.Status
	f.write(w, r, c, err)
}

func (f *Funnel) write(w http.ResponseWriter, r *http.Request, c *Class, err error) {
	h := w.Header()
	for k := range h {
		if k != f.RequestIDHeader {
			delete(h, k)
		}
	}
	ct, grpc := grpcContentType(r.Header)
	a := answerOf(err, c)
	if a != nil && !grpc {
		f.answerHeader(h, a)
	}
	headersOf(err, func(name, value string) { h[name] = append(h[name], value) })
	if grpc {
		writeGRPC(w, ct, c)
		return
	}
	var body []byte
	if a != nil {
		body = answerBody(h, a)
	} else {
		body = ownAnswer(h, r, c)
	}
	if r.ProtoMajor == 1 && hasBody(r) {
		// The body may be partly unread (it stalled, was too large, or
		// the refusal came before it was read): what is left of it must
		// never be read as the next request on this connection.
		h["Connection"] = []string{"close"}
	}
	w.WriteHeader(c.Status)
	if r.Method != http.MethodHead && body != nil {
		_, _ = w.Write(body)
	}
}

// ownAnswer sets the header of the funnel's own answer of class c and
// returns its body: text, or JSON for a client that asks for it.
func ownAnswer(h http.Header, r *http.Request, c *Class) []byte {
	var body string
	if wantsJSON(r.Header["Accept"]) {
		h["Content-Type"] = []string{"application/json"}
		body = `{"status":` + strconv.Itoa(c.Status) + `,"error":` + strconv.Quote(c.Message) +
			`,"request_id":` + strconv.Quote(reqinfo.From(r.Context()).RequestID) + "}\n"
	} else {
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		body = Text(c)
	}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	return []byte(body)
}

// answerHeader copies a's header into h, as Answer's doc says.
func (f *Funnel) answerHeader(h http.Header, a *Answer) {
	conn := a.Header["Connection"]
	for k, vv := range a.Header {
		switch {
		case hop.Is(k), k == "Content-Length", k == f.RequestIDHeader && h[k] != nil,
			len(conn) > 0 && hop.Named(conn, k):
			continue
		}
		h[k] = slices.Clip(vv) // an append copies: a's header stays as it is
	}
}

// answerBody completes the header of answer a and returns the body to
// write: nil for a status that has none.
func answerBody(h http.Header, a *Answer) []byte {
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // as sent: net/http would otherwise sniff one
	}
	if a.Status == http.StatusNoContent || a.Status == http.StatusNotModified {
		return nil
	}
	h["Content-Length"] = []string{strconv.Itoa(len(a.Body))}
	return a.Body
}

// hasBody reports whether r came with a body (declared or chunked).
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
}

// Text is the plain-text body of an answer of class c.
func Text(c *Class) string { return strconv.Itoa(c.Status) + " " + c.Message + "\n" }

func wantsJSON(accept []string) bool {
	for _, a := range accept {
		if strings.Contains(a, "application/json") || strings.Contains(a, "+json") {
			return true
		}
	}
	return false
}

// level is how loud a failure of status is: the upstream or Gatehouse
// failing is a warning; a client leaving is news; a refused request is
// the client's doing and in the access log already.
func level(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelWarn
	case status == StatusClientClosed:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func (f *Funnel) log(r *http.Request, info *reqinfo.Info, status int, err error) {
	if f.Log == nil {
		return
	}
	f.Log.LogAttrs(r.Context(), level(status), "request failed",
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

// Redirect answers with a redirect Gatehouse makes itself (to HTTPS, to
// a directory's slash form): the status, Location, and a short body in
// the form the client asked for, as Fail's answers have.
func (f *Funnel) Redirect(w http.ResponseWriter, r *http.Request, status int, location string) {
	h := w.Header()
	h["Location"] = []string{location}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	var body string
	if wantsJSON(r.Header["Accept"]) {
		h["Content-Type"] = []string{"application/json"}
		body = `{"status":` + strconv.Itoa(status) + `,"location":` + strconv.Quote(location) + "}\n"
	} else {
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		body = strconv.Itoa(status) + " moved to " + location + "\n"
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}
