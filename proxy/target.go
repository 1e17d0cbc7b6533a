package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/urlpath"
)

// RequestPath returns the request's path exactly as the client wrote it on
// the request line, still escaped, without the query. Routing normalizes
// it and the upstream receives it unchanged, so the two always agree on
// what the path is: net/http's parsed URL may re-encode a path (a "|" or a
// non-ASCII byte makes it re-escape everything, turning "%2F" into "/").
// For an absolute-form request ("GET http://host/p") it is the URL's path,
// and "/" when that is empty.
func RequestPath(r *http.Request) string {
	if uri := r.RequestURI; uri != "" && uri[0] == '/' {
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			return uri[:i]
		}
		return uri
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// setTargetPath makes u's request target the escaped path p, byte for byte
// where Go allows it.
func setTargetPath(u *url.URL, p string) {
	if !strings.HasPrefix(p, "//") {
		// Opaque is written to the request line as is.
		u.Opaque = p
		return
	}
	// An Opaque starting with "//" would be sent as an absolute URL, so
	// this rare path goes through Path and RawPath, with the bytes Go
	// refuses in a raw path escaped (same meaning, different spelling).
	raw := urlpath.EscapeRaw(p)
	dec, err := url.PathUnescape(raw)
	if err != nil {
		dec = raw
	}
	u.Path, u.RawPath = dec, raw
}
