// Package respond holds the route actions that answer without an upstream:
// redirects and fixed responses.
package respond

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/urlpath"
)

// Redirect answers every request with a redirect to To. Immutable.
type Redirect struct {
	To     string
	Status int
	// Path, when set, returns the (rewritten, escaped) request path to
	// append to To, together with the query. Nil redirects to To as is.
	Path func(r *http.Request) string
}

// ServeHTTP implements http.Handler.
func (h *Redirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	loc := h.To
	if h.Path != nil {
		// The path goes after To's path and before its query, if any; the
		// request's query is appended to To's.
		base, query, _ := strings.Cut(h.To, "?")
		p := urlpath.EscapeRaw(h.Path(r)) // a raw "\" would read as "/" in browsers: an open redirect
		if strings.HasSuffix(base, "/") && strings.HasPrefix(p, "/") {
			p = p[1:]
		}
		loc = base + p
		if r.URL.RawQuery != "" {
			if query != "" {
				query += "&"
			}
			query += r.URL.RawQuery
		}
		if query != "" {
			loc += "?" + query
		}
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(h.Status)
}

// Fixed answers every request with the same status, headers and body.
type Fixed struct {
	status int
	header http.Header
	body   []byte
}

// NewFixed returns a fixed response. A Content-Type is sniffed from body
// when headers do not set one.
func NewFixed(status int, headers map[string]string, body string) *Fixed {
	h := make(http.Header, len(headers)+2)
	for k, v := range headers {
		h.Set(k, v)
	}
	if !bodyAllowed(status) {
		body = ""
	}
	if h.Get("Content-Type") == "" && body != "" {
		h.Set("Content-Type", http.DetectContentType([]byte(body)))
	}
	if bodyAllowed(status) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return &Fixed{status: status, header: h, body: []byte(body)}
}

// ServeHTTP implements http.Handler.
func (f *Fixed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range f.header {
		h[k] = v
	}
	w.WriteHeader(f.status)
	if r.Method != http.MethodHead && len(f.body) > 0 {
		_, _ = w.Write(f.body)
	}
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

var (
	_ http.Handler = (*Redirect)(nil)
	_ http.Handler = (*Fixed)(nil)
)
