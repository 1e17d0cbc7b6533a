package urlpath

import "strings"

// Decode fully percent-decodes norm, a path in the form Normalize returns,
// for looking it up on a file system. It never resolves dot segments: norm
// has none, and a normal path cannot spell one with escapes.
//
// ok is false, and the result empty, if norm is not normal (Normalize would
// change it) or if decoding would produce a slash ("%2F") or a NUL byte,
// either of which would change which file is meant. Escapes of other bytes,
// including control bytes such as "%0A", are decoded. Only '/' separates
// segments: a backslash, raw or from "%5C", is an ordinary byte, so on a
// system where it also separates (Windows) the caller must reject it or
// open files through an os.Root.
//
// Decode returns norm itself, without allocating, when it has no '%';
// otherwise it allocates the result once.
func Decode(norm string) (string, bool) {
	if !isNormal(norm) {
		return "", false
	}
	i := strings.IndexByte(norm, '%')
	if i < 0 {
		return norm, true
	}
	var b strings.Builder
	b.Grow(len(norm))
	b.WriteString(norm[:i])
	for ; i < len(norm); i++ {
		c := norm[i]
		if c == '%' {
			// isNormal checked that the escape is well formed.
			c, _ = unescape(norm, i)
			if c == '/' || c == 0 {
				return "", false
			}
			i += 2
		}
		b.WriteByte(c)
	}
	return b.String(), true
}
