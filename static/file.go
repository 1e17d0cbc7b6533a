package static

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
)

// serveFile streams the regular file rel (root-relative) with
// http.ServeContent, which handles Content-Type, Last-Modified,
// conditional requests and ranges; the ETag set here lets it answer
// If-None-Match, If-Match and If-Range too. A precompressed sibling
// (see sibling) is served instead when the client accepts its coding
// and asks for no range.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, f *os.File, fi fs.FileInfo, rel string) {
	if !fi.Mode().IsRegular() {
		h.fail(w, r, errNotFound)
		return
	}
	name := path.Base(rel)
	hdr := w.Header()
	if h.cacheControl != "" {
		hdr.Set("Cache-Control", h.cacheControl)
	}
	if h.precompressed && !strings.HasPrefix(r.Header.Get("Range"), "bytes=") && mayHaveSiblings(name) {
		sib, sfi, coding, varies := h.sibling(r, rel, fi)
		if varies {
			addVary(hdr)
		}
		if sib != nil {
			defer sib.Close()
			h.servePrecompressed(w, r, f, name, sib, sfi, coding)
			return
		}
	}
	hdr.Set("Etag", etag(fi))
	http.ServeContent(w, byteRangesOnly(r), name, fi.ModTime(), pathless{f})
}

// byteRangesOnly returns r without its Range header when that header names
// a unit other than bytes: RFC 9110 section 14.2 says to ignore it and serve
// the whole file, where ServeContent would answer 416. The inbound request
// is never modified; a copy is made only in this rare case.
func byteRangesOnly(r *http.Request) *http.Request {
	rng := r.Header.Get("Range")
	if rng == "" || strings.HasPrefix(rng, "bytes=") {
		return r
	}
	r = r.Clone(r.Context())
	r.Header.Del("Range")
	return r
}

// etag is a strong validator from the modification time and size:
// "<hex mtime nanoseconds>-<hex size>".
func etag(fi fs.FileInfo) string {
	mt := uint64(fi.ModTime().UnixNano())
	return `"` + strconv.FormatUint(mt, 16) + "-" + strconv.FormatInt(fi.Size(), 16) + `"`
}

// pathless is the file handed to ServeContent, which writes the text of a
// Seek error into the response body; os.File errors name the file's full
// path, so Seek drops it. Embedding keeps SyscallConn, so the response is
// still sent with sendfile.
type pathless struct{ *os.File }

// Seek is os.File.Seek with any *fs.PathError unwrapped.
func (p pathless) Seek(offset int64, whence int) (int64, error) {
	n, err := p.File.Seek(offset, whence)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return n, err
}
