package static

import (
	"net/http"
	"os"
	"strings"
)

// serveDir answers a request naming a directory: a redirect to add the
// trailing slash, the index file, a listing, or 404.
func (h *Handler) serveDir(w http.ResponseWriter, r *http.Request, t target, dir *os.File) {
	if !t.dir || !strings.HasSuffix(r.URL.EscapedPath(), "/") {
		// Also when the request names the directory without a slash but
		// the served path has one (a route prefix "/assets" stripped to
		// "/"): relative links in its index need the slash.
		h.redirectDir(w, r)
		return
	}
	if h.index != "" && h.serveIndex(w, r, t) {
		return
	}
	if !h.browse {
		// 404, like a missing name: without an index or a listing the
		// directory has nothing to show, and its existence is not revealed.
		h.fail(w, r, errNotFound)
		return
	}
	h.serveListing(w, r, t, dir)
}

// serveIndex serves the index file of directory t and reports whether it
// answered the request. A missing index, or one that is not a regular file,
// leaves the request unanswered so a listing can be tried.
func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request, t target) bool {
	f, err := h.open(join(t.name, h.index))
	if isNotFound(err) {
		return false
	}
	if err != nil {
		h.fail(w, r, err)
		return true
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		h.fail(w, r, err)
		return true
	}
	if !fi.Mode().IsRegular() {
		return false
	}
	h.serveFile(w, r, f, fi, join(t.name, h.index))
	return true
}

// redirectDir sends 301 to the request path with a slash appended, keeping
// the query. The Location is relative ("./name/") so that it is right
// whatever route prefix the caller stripped, and so that a name like
// "a:b" or "/evil.example" cannot turn it into another scheme or host.
func (h *Handler) redirectDir(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	base := p[strings.LastIndexByte(p, '/')+1:]
	if base == "" {
		// The request URL already ends in "/" though the served path does
		// not; redirecting would loop.
		h.fail(w, r, errNotFound)
		return
	}
	loc := "./" + base + "/"
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusMovedPermanently)
}
