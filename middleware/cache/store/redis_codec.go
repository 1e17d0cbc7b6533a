package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A variant's header, the value of its field in the key's index hash. Its
// fixed-width decimal fields let the Lua scripts read it with string.sub:
//
//	offset  width  field
//	0       1      format version, "1"
//	1       16     expiry, Unix milliseconds
//	17      32     body ID, hex
//	49      10     chunk count
//	59      16     body size in bytes
//	75      4      tag count n
//	79      ...    n times: tag length (6 digits) and the tag
//	...     rest   the cache's Meta, raw
//
// Offsets are 0-based here; the scripts' string.sub counts from 1.
type header struct {
	expires time.Time
	bodyID  string
	chunks  int
	size    int64
	tags    []string
	meta    []byte
}

const (
	headerFixed = 79
	maxTags     = 9999
	maxTagLen   = 999999
	bodyIDLen   = 32
)

var errBadHeader = errors.New("store: malformed redis entry header")

func (h *header) encode() (string, error) {
	if len(h.tags) > maxTags {
		return "", fmt.Errorf("store: %d tags, at most %d", len(h.tags), maxTags)
	}
	n := headerFixed + len(h.meta)
	for _, t := range h.tags {
		if len(t) > maxTagLen {
			return "", fmt.Errorf("store: tag of %d bytes, at most %d", len(t), maxTagLen)
		}
		n += 6 + len(t)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('1')
	b.WriteString(expiryField(h.expires))
	b.WriteString(h.bodyID)
	fmt.Fprintf(&b, "%010d%016d%04d", h.chunks, h.size, len(h.tags))
	for _, t := range h.tags {
		fmt.Fprintf(&b, "%06d", len(t))
		b.WriteString(t)
	}
	b.Write(h.meta)
	return b.String(), nil
}

// expiryField is t in Unix milliseconds, 16 digits.
func expiryField(t time.Time) string {
	ms := min(max(t.UnixMilli(), 0), 9999999999999999)
	return fmt.Sprintf("%016d", ms)
}

func decodeHeader(s string) (header, error) {
	var h header
	if len(s) < headerFixed || s[0] != '1' {
		return h, errBadHeader
	}
	ms, err1 := strconv.ParseInt(s[1:17], 10, 64)
	h.bodyID = s[17:49]
	chunks, err2 := strconv.Atoi(s[49:59])
	size, err3 := strconv.ParseInt(s[59:75], 10, 64)
	ntags, err4 := strconv.Atoi(s[75:79])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return h, errBadHeader
	}
	h.expires, h.chunks, h.size = time.UnixMilli(ms), chunks, size
	pos := headerFixed
	if ntags > 0 {
		h.tags = make([]string, 0, ntags)
	}
	for range ntags {
		if pos+6 > len(s) {
			return h, errBadHeader
		}
		l, err := strconv.Atoi(s[pos : pos+6])
		if err != nil || pos+6+l > len(s) {
			return h, errBadHeader
		}
		h.tags = append(h.tags, s[pos+6:pos+6+l])
		pos += 6 + l
	}
	h.meta = []byte(s[pos:])
	return h, nil
}

// globEscape quotes the characters Redis's MATCH patterns treat
// specially, so a URL prefix matches only itself.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
