package h1client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
)

// field is one header field of a response head. Both strings point into
// the head's one string, so a head costs one allocation however many
// fields it has (names not already canonical excepted).
type field struct{ key, val string }

// head is a parsed response status line and header, with the framing
// RFC 9112 section 6.3 gives its body.
type head struct {
	status  int
	fields  []field
	noBody  bool  // HEAD, 1xx, 204, 304
	chunked bool  // Transfer-Encoding ending in chunked
	length  int64 // Content-Length; -1 when not known
	// keepAlive is false when the connection cannot carry another
	// request after this response: Connection: close, HTTP/1.0 without
	// keep-alive, a body delimited by the close, or a message with both
	// Transfer-Encoding and Content-Length (a smuggling attempt).
	keepAlive bool
	trailer   string // the Trailer field: names announced for after the body
	upgrade   string // the Upgrade field of a 101
}

// maxHeadBytes bounds a response head, as net/http's Transport does;
// maxFields the fields in it (Envoy allows 100 by default).
const (
	maxHeadBytes = 1 << 20
	maxFields    = 500
)

var (
	errHeadTooLarge = errors.New("the target's response header is larger than 1 MiB")
	errMalformed    = errors.New("malformed HTTP response from the target")
	errBareLF       = fmt.Errorf("%w: a line ends in a bare LF, not CRLF (RFC 9112 section 2.2)", errMalformed)
	errLeadingLine  = fmt.Errorf("%w: an empty line before the status line", errMalformed)
)

// takeHead reads one response head if it is whole in the buffer, as
// readHead would. ok is false, with nothing consumed, when the buffer
// holds no whole head (reading it may wait), or one with a line that
// does not end in CRLF or an empty line first (readHead says what is
// wrong).
func (pc *pconn) takeHead(isHead bool) (h head, ok bool, err error) {
	var ends [64]int // line ends in scratch; more lines spill to the heap
	lines, ok := pc.takeBuffered(ends[:0])
	if !ok {
		return h, false, nil
	}
	h, err = pc.parse(lines, isHead)
	return h, true, err
}

// readHead reads one response head line by line. gotByte tells whether
// any byte of it arrived, for the caller's retry decision.
func (pc *pconn) readHead(isHead bool) (h head, gotByte bool, err error) {
	pc.scratch = pc.scratch[:0]
	var ends [64]int // line ends in scratch; more lines spill to the heap
	lines := ends[:0]
	for {
		line, err := readLine(pc.br, &pc.scratch)
		if err != nil {
			return h, len(pc.scratch) > 0 || len(lines) > 0, err
		}
		if line == 0 {
			if len(lines) == 0 {
				// Held to what Gatehouse's server accepts from
				// clients: a stray line is a framing error.
				return h, true, errLeadingLine
			}
			break
		}
		if len(pc.scratch) > maxHeadBytes {
			return h, true, errHeadTooLarge
		}
		lines = append(lines, len(pc.scratch))
	}
	h, err = pc.parse(lines, isHead)
	return h, true, err
}

// parse parses the head read into scratch (lines are its line ends).
func (pc *pconn) parse(lines []int, isHead bool) (head, error) {
	h, err := parseHead(string(pc.scratch), lines, pc.fields[:0], isHead)
	pc.fields = h.fields
	return h, err
}

// takeBuffered is the reading of a head when it is whole in the
// buffer (takeHead): its lines, without their CRLF, into scratch and
// their ends into lines, in one pass to find them and one to copy them.
// False, with nothing consumed, when the buffer holds no whole head, or
// one with a line that does not end in CRLF or an empty line first:
// reading it line by line then says what is wrong.
func (pc *pconn) takeBuffered(lines []int) ([]int, bool) {
	b, _ := pc.br.Peek(pc.br.Buffered())
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return lines[:0], false
		}
		j += i // b[j] is the LF
		if j == i || b[j-1] != '\r' {
			return lines[:0], false
		}
		if j-1 > i {
			// The line's end in scratch: each line before it dropped
			// its CRLF.
			lines = append(lines, j-1-2*len(lines))
			i = j + 1
			continue
		}
		if len(lines) == 0 { // an empty line first
			return lines, false
		}
		s, start := pc.scratch[:0], 0
		for k, end := range lines {
			s = append(s, b[start+2*k:end+2*k]...)
			start = end
		}
		pc.scratch = s
		pc.br.Discard(j + 1)
		return lines, true
	}
}

// readLine appends one line, without its CRLF (or bare LF), to buf and
// returns its length.
func readLine(br *bufio.Reader, buf *[]byte) (int, error) {
	start := len(*buf)
	for {
		frag, err := br.ReadSlice('\n')
		*buf = append(*buf, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			return 0, err
		}
		if len(*buf) > maxHeadBytes {
			return 0, errHeadTooLarge
		}
	}
	b := *buf
	n := len(b) - 1 // the LF
	if n == start || b[n-1] != '\r' {
		return 0, errBareLF
	}
	n--
	*buf = b[:n]
	return n - start, nil
}

// parseHead parses the lines of s (ends are their end offsets).
func parseHead(s string, ends []int, fields []field, isHead bool) (head, error) {
	h := head{length: -1, keepAlive: true}
	status := s[:ends[0]]
	if len(status) < 12 || !strings.HasPrefix(status, "HTTP/1.") || status[8] != ' ' ||
		(status[7] != '0' && status[7] != '1') || (len(status) > 12 && status[12] != ' ') {
		return h, fmt.Errorf("%w: status line %q", errMalformed, truncate(status))
	}
	code, err := strconv.Atoi(status[9:12])
	if err != nil || code < 100 {
		return h, fmt.Errorf("%w: status line %q", errMalformed, truncate(status))
	}
	h.status = code
	http10 := status[7] == '0'
	start := ends[0]
	for _, end := range ends[1:] {
		line := s[start:end]
		start = end
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold: RFC 9112 section 5.2 lets a proxy answer 502 or
			// unfold; Gatehouse refuses it from targets as from clients.
			return h, fmt.Errorf("%w: a header line starts with whitespace (obs-fold, RFC 9112 section 5.2)", errMalformed)
		}
		colon := strings.IndexByte(line, ':')
		key, ok := fieldKey(line[:max(colon, 0)])
		if colon <= 0 || !ok {
			return h, fmt.Errorf("%w: header line %q", errMalformed, truncate(line))
		}
		val := trimOWS(line[colon+1:])
		if strings.IndexByte(val, 0) >= 0 {
			return h, fmt.Errorf("%w: a NUL in header %s", errMalformed, line[:colon])
		}
		if len(fields) == maxFields {
			return h, fmt.Errorf("%w: more than %d header fields", errMalformed, maxFields)
		}
		fields = append(fields, field{key: key, val: val})
	}
	h.fields = fields
	return h, h.frame(http10, isHead)
}

// frame decides how the body is delimited and whether the connection
// stays usable (RFC 9112 sections 6.3 and 9.3).
func (h *head) frame(http10, isHead bool) error {
	var te, cl bool
	keepAliveToken := false
	for _, f := range h.fields {
		switch f.key {
		case "Transfer-Encoding":
			if te || !strings.EqualFold(trimOWS(f.val), "chunked") {
				// Only chunked, once: any other coding would reach the
				// client as if it were the content (net/http refuses it
				// too).
				return fmt.Errorf("%w: unsupported Transfer-Encoding %q", errMalformed, truncate(f.val))
			}
			te, h.chunked = true, true
		case "Content-Length":
			n, err := parseLength(f.val)
			if err != nil || cl {
				return fmt.Errorf("%w: Content-Length %q (one field, one value)", errMalformed, truncate(f.val))
			}
			cl, h.length = true, n
		case "Connection":
			if tokenIn(f.val, "close") {
				h.keepAlive = false
			}
			if tokenIn(f.val, "keep-alive") {
				keepAliveToken = true
			}
		case "Trailer":
			if h.trailer == "" {
				h.trailer = f.val
			} else {
				h.trailer += ", " + f.val
			}
		case "Upgrade":
			h.upgrade = f.val
		}
	}
	switch {
	case te && cl:
		// Either length may be the one the target meant (RFC 9112
		// section 6.1 calls it a smuggling or splitting pattern).
		return fmt.Errorf("%w: both Content-Length and Transfer-Encoding", errMalformed)
	case http10 && te:
		return fmt.Errorf("%w: Transfer-Encoding in an HTTP/1.0 response (RFC 9112 section 6.1)", errMalformed)
	case http10 && !keepAliveToken:
		h.keepAlive = false
	}
	switch {
	case isHead || h.status < 200 || h.status == 204 || h.status == 304:
		h.noBody, h.chunked, h.length = true, false, 0
	case te:
		// Transfer-Encoding wins over Content-Length, which is dropped.
		h.length = -1
	case !cl:
		h.keepAlive = false // the body ends with the connection
	}
	return nil
}

// parseLength parses a Content-Length value: digits only. A list, even
// of one value repeated ("5, 5", which RFC 9110 section 8.6 lets a
// recipient take), is refused, as Gatehouse's server refuses it.
func parseLength(v string) (int64, error) {
	part := trimOWS(v)
	if part == "" || len(part) > 18 {
		return 0, errMalformed
	}
	var n int64
	for i := 0; i < len(part); i++ {
		c := part[i]
		if c < '0' || c > '9' {
			return 0, errMalformed
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// tokenIn reports whether a comma-separated list has tok, ignoring case.
func tokenIn(v, tok string) bool {
	for v != "" {
		var t string
		t, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(trimOWS(t), tok) {
			return true
		}
	}
	return false
}

// validName reports whether s is a token (RFC 9110 section 5.6.2).
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if tokenByte[s[i]] == 0 {
			return false
		}
	}
	return true
}

// The classes of bytes in tokenByte.
const (
	tchar = 1 << iota // in a token
	lower             // a to z
	upper             // A to Z
)

// tokenByte holds the class of each byte. Never written after its
// initialization.
var tokenByte = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z':
			t[c] = tchar | lower
		case 'A' <= c && c <= 'Z':
			t[c] = tchar | upper
		case '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0:
			t[c] = tchar
		}
	}
	return t
}()

// fieldKey returns a field name in canonical form
// (textproto.CanonicalMIMEHeaderKey), itself when it is already, and
// whether it is a token: validName and the canonical form in one pass.
func fieldKey(s string) (string, bool) {
	var miscased uint8 // a lower case letter where an upper one belongs, or the reverse
	wrong := uint8(lower)
	for i := 0; i < len(s); i++ {
		c := tokenByte[s[i]]
		if c == 0 {
			return s, false
		}
		miscased |= c & wrong
		wrong = upper
		if s[i] == '-' {
			wrong = lower
		}
	}
	if miscased != 0 {
		return textproto.CanonicalMIMEHeaderKey(s), true
	}
	return s, true
}

// trimOWS is strings.Trim(s, " \t") without building a cutset each call.
func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
