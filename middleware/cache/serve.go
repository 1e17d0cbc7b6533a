package cache

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/cache/policy"
)

// serve answers r from a stored response: its header with Age and
// Cache-Status, then, unless the client's own conditional is satisfied
// or the request is HEAD, its body. validated says the origin just
// confirmed it, so fields no-cache="..." names may be sent too.
func (x *exchange) serve(w http.ResponseWriter, o *object, c *candidate, f policy.Freshness, status string, validated bool) {
	h := w.Header()
	for k, v := range o.header {
		h[k] = v
	}
	if !validated {
		for _, k := range o.dirs.NoCacheFields {
			delete(h, k) // RFC 9111 5.2.2.4
		}
	}
	// One allocation for the three values a hit adds.
	vals := make([]string, 3)
	vals[0], vals[1] = itoa(int64(f.Age/time.Second)), status
	h["Age"] = vals[0:1:1]
	h["Cache-Status"] = vals[1:2:2]
	body := c.v.Body
	code := o.status
	if code >= 200 && code < 300 {
		if policy.EvaluateConditional(x.r.Method, x.r.Header, o.header) == http.StatusNotModified {
			notModifiedHeader(h)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if _, ok := h["Content-Length"]; !ok && bodyAllowed(code) {
		vals[2] = itoa(body.Size())
		h["Content-Length"] = vals[2:3:3]
	}
	w.WriteHeader(code)
	if x.r.Method == http.MethodHead || x.background || !bodyAllowed(code) {
		return
	}
	if _, err := body.WriteTo(x.r.Context(), w); err != nil && x.r.Context().Err() == nil {
		// The stored body went away mid-answer (evicted from Redis, say):
		// end the connection so the client cannot take the part it got
		// for the whole.
		x.h.log.Warn("cache: a stored body could not be read to the end", "key", x.key, "error", err)
		panic(http.ErrAbortHandler)
	}
}

// notModifiedHeader trims a response header for a 304 (RFC 9110 15.4.5),
// as net/http's file server does.
func notModifiedHeader(h http.Header) {
	delete(h, "Content-Type")
	delete(h, "Content-Length")
	delete(h, "Content-Encoding")
	delete(h, "Transfer-Encoding")
}

func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
