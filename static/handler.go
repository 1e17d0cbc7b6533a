package static

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// Options configures a Handler. It is read once, by New.
type Options struct {
	// Root is the directory served. Required.
	Root string
	// Index is the file served for a directory requested with a trailing
	// slash, such as "index.html"; "" means none. It must be a plain file
	// name: no slash, backslash or leading dot.
	Index string
	// Browse enables an HTML listing for directories without an index.
	Browse bool
	// CacheControl, when non-empty, is sent as Cache-Control with every
	// file (not with listings, redirects or errors).
	CacheControl string
	// NoPrecompressed serves every file as it is. By default a file
	// "name" with a sibling "name.zst", "name.br" or "name.gz" (regular,
	// not older) is answered with the sibling, Content-Encoding set, to a
	// client that accepts that coding and asks for no range.
	NoPrecompressed bool
	// Path returns the request path to serve: normalized for routing, any
	// route prefix stripped, still percent-encoded (e.g. "/img/a%20b.png").
	// nil means r.URL.EscapedPath().
	Path func(r *http.Request) string
	// Fail answers a request that cannot be served, with an error that
	// wraps a funnel.Class; nil means a funnel that does not log.
	Fail func(w http.ResponseWriter, r *http.Request, err error)
}

// Handler serves the files under one directory. It is immutable after New
// and safe for concurrent use. Close releases the directory; requests served
// after Close fail with 500.
type Handler struct {
	root         *os.Root
	index        string
	browse       bool
	cacheControl string
	// precompressed: serve precompressed siblings (Options.NoPrecompressed).
	precompressed bool
	path          func(*http.Request) string
	failFn        func(http.ResponseWriter, *http.Request, error)
}

// New opens o.Root and returns a Handler serving it. It fails when the root
// is not an openable directory or o.Index is not a plain file name.
func New(o Options) (*Handler, error) {
	if o.Root == "" {
		return nil, errors.New("static: root directory not set")
	}
	if o.Index != "" && (!servable(o.Index) || strings.Contains(o.Index, "/") ||
		strings.ContainsFunc(o.Index, forbidden)) {
		return nil, fmt.Errorf("static: index %q is not a plain file name", o.Index)
	}
	root, err := os.OpenRoot(o.Root)
	if err != nil {
		return nil, fmt.Errorf("static: open root: %w", err)
	}
	h := &Handler{
		root:          root,
		index:         o.Index,
		browse:        o.Browse,
		cacheControl:  o.CacheControl,
		precompressed: !o.NoPrecompressed,
		path:          o.Path,
		failFn:        o.Fail,
	}
	if h.failFn == nil {
		h.failFn = (&funnel.Funnel{}).Fail
	}
	if h.path == nil {
		h.path = func(r *http.Request) string { return r.URL.EscapedPath() }
	}
	return h, nil
}

// Start implements the runtime's component lifecycle: a static route
// has no background work.
func (h *Handler) Start(context.Context) error { return nil }

// Close releases the root directory.
func (h *Handler) Close() error {
	return h.root.Close()
}

// ServeHTTP serves the file or directory named by the request path. See the
// package documentation for the status codes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.failFn(w, r, funnel.WithHeader(fmt.Errorf("static files answer GET and HEAD, not %s: %w", r.Method, funnel.ErrMethodNotAllowed), "Allow", "GET, HEAD"))
		return
	}
	t, err := parsePath(h.path(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := h.open(t.name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		h.fail(w, r, err)
	case fi.IsDir():
		h.serveDir(w, r, t, f)
	case t.dir:
		h.fail(w, r, errNotFound) // a file is never a directory
	default:
		h.serveFile(w, r, f, fi, t.name)
	}
}

// open opens a root-relative name for reading. O_NONBLOCK keeps the open
// of a FIFO from hanging the request; it has no effect on regular files and
// directories, and special files are refused after Stat.
func (h *Handler) open(name string) (*os.File, error) {
	return h.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

var _ http.Handler = (*Handler)(nil)
