package h1

import (
	"bytes"
)

// A head is a request's line and header fields as offsets into the
// bytes they were read into: parsing allocates nothing, and the strings
// the handlers see are cut from one copy of those bytes (request.go).
type head struct {
	method, target span
	minor          int // HTTP/1.minor: 0, or 1 for 1.1 and above
	fields         []field
	size           int // bytes of the head, through the empty line
}

// span is a part of the head's bytes, [off, end).
type span struct{ off, end int }

func (s span) of(b []byte) []byte { return b[s.off:s.end] }

type field struct{ name, value span }

// errNeedMore: the head is not complete yet; read more and scan again.
var errNeedMore = &parseError{status: 0, why: "incomplete"}

// parseError is why a head was refused, with the status to answer.
type parseError struct {
	status int
	why    string
}

func (e *parseError) Error() string { return e.why }

func bad(why string) *parseError { return &parseError{status: 400, why: why} }

// Refusals of the head, written once each so the hot path allocates none.
var (
	errBareLF      = bad("a line ends in a bare LF; HTTP/1.1 lines end in CRLF (RFC 9112 section 2.2)")
	errObsFold     = bad("a header line starts with whitespace (obs-fold, RFC 9112 section 5.2)")
	errLeadingLine = bad("the request starts with an empty line")
	errRequestLine = bad("malformed request line; want METHOD SP target SP HTTP/1.1")
	errMethod      = bad("the method is not a token")
	errTarget      = bad("the request target holds a character RFC 9112 does not allow (control, space, non-ASCII or #)")
	errVersion     = bad("malformed HTTP version")
	errVersionNum  = &parseError{status: 505, why: "HTTP version not supported; this port speaks HTTP/1.0 and HTTP/1.1"}
	errFieldName   = bad("a header name is empty or not a token")
	errSpaceColon  = bad("whitespace between a header name and its colon (RFC 9112 section 5.1)")
	errNoColon     = bad("a header line has no colon")
	errFieldValue  = bad("a header value holds a control character")
	errTooMany     = &parseError{status: 431, why: "too many header fields"}
	errTooLarge    = &parseError{status: 431, why: "the request header is larger than max_header_bytes"}
)

// scanHead looks for the end of a head in b, from line (the offset of
// the first line not yet seen whole, so a head read in pieces is scanned
// once). It returns the size of the head, or 0 and the offset to resume
// from when the empty line has not arrived; a bare LF is an error at
// once, never a wait for a CRLF that will not come.
func scanHead(b []byte, line int) (size, resume int, err *parseError) {
	for {
		i := bytes.IndexByte(b[line:], '\n')
		if i < 0 {
			return 0, line, nil
		}
		nl := line + i
		if nl == 0 || b[nl-1] != '\r' {
			return 0, line, errBareLF
		}
		if nl-1 == line { // an empty line
			if line == 0 {
				return 0, 0, errLeadingLine
			}
			return nl + 1, nl + 1, nil
		}
		line = nl + 1
	}
}

// parseHead parses the head b[:size] found by scanHead into h, whose
// fields slice is reused (its capacity is the field count allowed).
func parseHead(b []byte, size int, h *head) *parseError {
	h.size = size
	h.fields = h.fields[:0]
	end := bytes.IndexByte(b, '\n') - 1 // at the CR; scanHead found it
	if err := parseRequestLine(b, end, h); err != nil {
		return err
	}
	for p := end + 2; p < size-2; {
		nl := p + bytes.IndexByte(b[p:size], '\n') - 1
		if len(h.fields) == cap(h.fields) {
			return errTooMany
		}
		f, err := parseField(b, p, nl)
		if err != nil {
			return err
		}
		h.fields = append(h.fields, f)
		p = nl + 2
	}
	return nil
}

// parseRequestLine parses "METHOD SP target SP HTTP/1.x" in b[:end].
func parseRequestLine(b []byte, end int, h *head) *parseError {
	line := b[:end]
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errRequestLine
	}
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp2 == sp1 || sp2 == sp1+1 {
		return errRequestLine
	}
	for _, c := range line[:sp1] {
		if !isTchar(c) {
			return errMethod
		}
	}
	for _, c := range line[sp1+1 : sp2] {
		if !isTargetChar(c) {
			if c == ' ' {
				return errRequestLine
			}
			return errTarget
		}
	}
	v := line[sp2+1:]
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || !isDigit(v[5]) || !isDigit(v[7]) {
		return errVersion
	}
	if v[5] != '1' {
		return errVersionNum
	}
	h.method = span{0, sp1}
	h.target = span{sp1 + 1, sp2}
	h.minor = min(int(v[7]-'0'), 1)
	return nil
}

// parseField parses the field line b[p:cr]: name ":" OWS value OWS.
func parseField(b []byte, p, cr int) (field, *parseError) {
	if b[p] == ' ' || b[p] == '\t' {
		return field{}, errObsFold
	}
	colon := p
	for colon < cr && isTchar(b[colon]) {
		colon++
	}
	if colon == cr {
		return field{}, errNoColon
	}
	if b[colon] != ':' {
		if b[colon] == ' ' || b[colon] == '\t' {
			return field{}, errSpaceColon
		}
		return field{}, errFieldName
	}
	if colon == p {
		return field{}, errFieldName
	}
	v, e := colon+1, cr
	for v < e && (b[v] == ' ' || b[v] == '\t') {
		v++
	}
	for e > v && (b[e-1] == ' ' || b[e-1] == '\t') {
		e--
	}
	for _, c := range b[v:e] {
		if c < ' ' && c != '\t' || c == 0x7f {
			return field{}, errFieldValue
		}
	}
	return field{name: span{p, colon}, value: span{v, e}}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isTchar reports whether c may be in a token (RFC 9110 section 5.6.2).
func isTchar(c byte) bool { return tchar[c] }

// isTargetChar reports whether c may appear in a request target: the
// visible ASCII characters but '#' (a fragment is never sent). The ones
// RFC 3986 leaves out but clients send unescaped ({, }, |, \, ^, `, <, >
// and ") are let through, as every proxy does.
func isTargetChar(c byte) bool { return '!' <= c && c <= '~' && c != '#' }

var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
