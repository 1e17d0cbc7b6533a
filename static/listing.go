package static

import (
	"bytes"
	"cmp"
	"html"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// entry is one line of a directory listing.
type entry struct {
	name string
	dir  bool
	size int64
	mod  time.Time
}

// serveListing writes the HTML listing of directory t, opened as dir.
func (h *Handler) serveListing(w http.ResponseWriter, r *http.Request, t target, dir *os.File) {
	names, err := dir.Readdirnames(-1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body := renderListing(r.URL.Path, t.name != ".", h.entries(t.name, names))
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body) // a write error means the client left; nothing to do
}

// entries stats the listed names through the root, keeping only those a
// request could fetch: no dotfiles, no links leading outside the root, no
// special files. Directories come first, then files, each sorted by name.
func (h *Handler) entries(dirName string, names []string) []entry {
	list := make([]entry, 0, len(names))
	for _, name := range names {
		if !servable(name) || name == wellKnown || strings.ContainsFunc(name, forbidden) {
			continue
		}
		fi, err := h.root.Stat(join(dirName, name))
		if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) {
			continue
		}
		list = append(list, entry{name: name, dir: fi.IsDir(), size: fi.Size(), mod: fi.ModTime()})
	}
	slices.SortFunc(list, func(a, b entry) int {
		if a.dir != b.dir {
			if a.dir {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.name, b.name)
	})
	return list
}

// renderListing builds the listing page. title is the decoded request path;
// parent adds a "../" link. Names are URL-escaped in links and HTML-escaped
// everywhere.
func renderListing(title string, parent bool, list []entry) []byte {
	var b bytes.Buffer
	t := html.EscapeString(title)
	b.WriteString("<!doctype html>\n<meta charset=\"utf-8\">\n<title>Index of " + t + "</title>\n")
	b.WriteString("<h1>Index of " + t + "</h1>\n<table>\n")
	b.WriteString("<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n")
	if parent {
		b.WriteString("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n")
	}
	for _, e := range list {
		writeRow(&b, e)
	}
	b.WriteString("</table>\n")
	return b.Bytes()
}

// writeRow writes one table row. The "./" prefix keeps a name such as
// "a:b" from being read as a URL scheme.
func writeRow(b *bytes.Buffer, e entry) {
	name, size := e.name, strconv.FormatInt(e.size, 10)
	if e.dir {
		name, size = name+"/", "-"
	}
	href := "./" + url.PathEscape(e.name)
	if e.dir {
		href += "/"
	}
	b.WriteString("<tr><td><a href=\"" + html.EscapeString(href) + "\">" + html.EscapeString(name) + "</a></td>")
	b.WriteString("<td>" + size + "</td><td>" + e.mod.UTC().Format(time.DateTime) + "</td></tr>\n")
}
