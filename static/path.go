package static

import (
	"net/url"
	"strings"
)

// target is a request path checked and decoded into a name relative to the
// root, in the slash-separated form os.Root accepts.
type target struct {
	name string // "." for the root itself
	base string // last decoded segment, "" for the root
	dir  bool   // the request path ended in "/"
}

// wellKnown is the one dot-prefixed segment served (RFC 8615).
const wellKnown = ".well-known"

// parsePath decodes a percent-encoded request path. It returns errBadPath
// for a path that cannot name a file and errNotFound for one that names
// something never served (dot segments, dotfiles, empty segments). An empty
// path is the root requested without its trailing slash.
func parsePath(raw string) (target, error) {
	if raw == "" {
		return target{name: "."}, nil
	}
	if raw[0] != '/' {
		return target{}, errBadPath
	}
	dec, err := url.PathUnescape(raw)
	if err != nil {
		return target{}, errBadPath
	}
	// Every '/' in dec must have been a literal separator: an encoded slash
	// would let one segment smuggle another past the checks below.
	if strings.Count(dec, "/") != strings.Count(raw, "/") || strings.ContainsFunc(dec, forbidden) {
		return target{}, errBadPath
	}
	rel := dec[1:]
	t := target{name: ".", dir: rel == "" || strings.HasSuffix(rel, "/")}
	rel = strings.TrimSuffix(rel, "/")
	if rel == "" {
		return t, nil
	}
	for seg := range strings.SplitSeq(rel, "/") {
		if !servable(seg) {
			return target{}, errNotFound
		}
		t.base = seg
	}
	t.name = rel
	return t, nil
}

// servable reports whether a decoded segment may appear in a served path.
// It rejects "", "." and ".." and every dotfile but ".well-known".
func servable(seg string) bool {
	return seg != "" && (seg[0] != '.' || seg == wellKnown)
}

// forbidden reports runes never allowed in a served name: control
// characters (NUL included) and the backslash, which is a separator on
// Windows.
func forbidden(r rune) bool {
	return r < 0x20 || r == 0x7f || r == '\\'
}

// join appends a child name to a root-relative directory name.
func join(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}
