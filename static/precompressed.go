package static

import (
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/middleware/compress"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
)

// siblingExt is the file name extension of the precompressed sibling
// in content coding c.
func siblingExt(c string) string {
	switch c {
	case "zstd":
		return ".zst"
	case "br":
		return ".br"
	}
	return ".gz"
}

// sibling finds the precompressed sibling of the file rel (with info fi)
// to serve r with: the one of the coding Negotiate picks among the
// siblings present (zstd, br, gzip breaking ties), where a sibling is a
// regular file named rel plus ".zst", ".br" or ".gz" and not older than
// the file. It returns the sibling opened (nil for none), its info and
// coding, and whether any sibling exists at all: then the response, even
// the identity one, varies with Accept-Encoding.
//
// Siblings are tried in the order the client wants them, so a hit costs
// an open per coding the client prefers but the site lacks; a file with
// no siblings costs three failed opens (about 10µs; see mayHaveSiblings
// for the files spared them).
func (h *Handler) sibling(r *http.Request, rel string, fi fs.FileInfo) (*os.File, fs.FileInfo, string, bool) {
	ae := acceptEncoding(r.Header)
	offer := compress.DefaultEncodings()
	for {
		c := compress.Negotiate(ae, offer)
		if c == compress.Identity {
			break
		}
		i := slices.Index(offer, c)
		offer = slices.Delete(offer, i, i+1)
		if f, sfi := h.openSibling(rel+siblingExt(c), fi); f != nil {
			return f, sfi, c, true
		}
	}
	for _, c := range offer {
		if sfi, err := h.root.Stat(rel + siblingExt(c)); err == nil && fresh(sfi, fi) {
			return nil, nil, "", true
		}
	}
	return nil, nil, "", false
}

// mayHaveSiblings reports whether a file called name is worth looking
// for siblings of: one whose type by extension is compressible
// (compress.TypeCompressible), or unknown. Images, media, fonts in WOFF
// and archives, most static requests, cost no lookup.
func mayHaveSiblings(name string) bool {
	ct := mime.TypeByExtension(path.Ext(name))
	return ct == "" || compress.TypeCompressible(ct)
}

// openSibling opens name if it is a precompressed form of the file with
// info fi: a regular file at least as new.
func (h *Handler) openSibling(name string, fi fs.FileInfo) (*os.File, fs.FileInfo) {
	f, err := h.open(name)
	if err != nil {
		return nil, nil
	}
	sfi, err := f.Stat()
	if err != nil || !fresh(sfi, fi) {
		f.Close()
		return nil, nil
	}
	return f, sfi
}

// fresh reports whether sibling sfi may stand for the file fi: a regular
// file not older than it (an older one was compressed from an earlier
// version).
func fresh(sfi, fi fs.FileInfo) bool {
	return sfi.Mode().IsRegular() && !sfi.ModTime().Before(fi.ModTime())
}

// servePrecompressed serves the sibling sib (info sfi, content coding
// coding) of the file f named name. The representation is the sibling's
// bytes, so they have their own strong ETag, Content-Length and
// Last-Modified; the Content-Type is the file's, as ServeContent would
// find it (by extension, else sniffed from the file, not the sibling).
// Range requests never come here: they are served from the file, whose
// offsets are the ones a client can know (RFC 9110 section 14), so the
// answer does not offer ranges.
func (h *Handler) servePrecompressed(w http.ResponseWriter, r *http.Request, f *os.File, name string, sib *os.File, sfi fs.FileInfo, coding string) {
	hdr := w.Header()
	if _, typed := hdr["Content-Type"]; !typed {
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			var buf [512]byte
			n, _ := io.ReadFull(f, buf[:])
			ctype = http.DetectContentType(buf[:n])
		}
		hdr.Set("Content-Type", ctype)
	}
	hdr.Set("Content-Encoding", coding)
	hdr.Set("Etag", strings.TrimSuffix(etag(sfi), `"`)+"-"+coding+`"`)
	sw := &encodedWriter{size: sfi.Size()}
	sw.Reset(w, sw)
	http.ServeContent(sw, byteRangesOnly(r), name, sfi.ModTime(), pathless{sib})
}

// encodedWriter fixes the header ServeContent writes for an encoded
// body: ServeContent leaves Content-Length out when Content-Encoding is
// set (it expects a writer compressing on the fly) and offers ranges.
type encodedWriter struct {
	wrap.Writer
	size int64
}

// BeforeHeader implements wrap.Hooks.
func (w *encodedWriter) BeforeHeader(status int) {
	if status == http.StatusOK {
		hdr := w.Header()
		hdr.Set("Content-Length", strconv.FormatInt(w.size, 10))
		hdr.Del("Accept-Ranges")
	}
}

// acceptEncoding returns the request's Accept-Encoding field lines as one
// list.
func acceptEncoding(h http.Header) string {
	v := h["Accept-Encoding"]
	switch len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	}
	return strings.Join(v, ",")
}

// addVary adds Accept-Encoding to the Vary of hdr unless it is there.
func addVary(hdr http.Header) {
	for _, v := range hdr["Vary"] {
		for _, f := range strings.Split(v, ",") {
			if t := strings.TrimSpace(f); t == "*" || strings.EqualFold(t, "Accept-Encoding") {
				return
			}
		}
	}
	hdr.Add("Vary", "Accept-Encoding")
}

var _ wrap.Hooks = (*encodedWriter)(nil)
