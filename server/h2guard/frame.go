package h2guard

// HTTP/2 frame types the guard looks at (RFC 9113, section 6).
const (
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameGoAway       = 0x7
	framePushPromise  = 0x5
	frameContinuation = 0x9

	flagEndHeaders = 0x4
)

const (
	headerLen = 9
	// prefaceLen is the length of the client connection preface,
	// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", which precedes the client's
	// first frame.
	prefaceLen = 24
	// errEnhanceYourCalm is the GOAWAY error code for a peer that
	// generates excessive load (RFC 9113, section 7).
	errEnhanceYourCalm = 0xb
)

// header is a parsed frame header; the guard needs no payload.
type header struct {
	length uint32
	typ    uint8
	flags  uint8
	stream uint32
}

func parseHeader(b []byte) header {
	_ = b[headerLen-1]
	return header{
		length: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:    b[3],
		flags:  b[4],
		stream: (uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])) & (1<<31 - 1),
	}
}

// scanner follows a byte stream of HTTP/2 frames, finding each frame
// header wherever reads or writes split the stream. It keeps no payload:
// a header split across calls is collected in hdr, payloads are skipped.
// The zero value expects a frame header first (the server's side); the
// client's side starts with skip set to the preface length.
type scanner struct {
	skip uint32 // payload (or preface) bytes still to pass over
	have uint8  // header bytes collected in hdr
	// inBlock is set inside a header block (HEADERS or PUSH_PROMISE
	// without END_HEADERS, then CONTINUATION frames until one has it),
	// which no other frame may interrupt (RFC 9113, section 6.10).
	inBlock bool
	hdr     [headerLen]byte
}

// atBoundary reports whether the bytes scanned so far end between whole
// frames, outside a header block: where another frame may be inserted.
func (s *scanner) atBoundary() bool { return s.skip == 0 && s.have == 0 && !s.inBlock }

// next consumes a prefix of p and returns its length n, and the frame
// header it completed, if it did. It stops after passing over a payload,
// so that a caller can check atBoundary between calls; n is 0 only for an
// empty p.
func (s *scanner) next(p []byte) (n int, h header, ok bool) {
	if s.skip > 0 {
		n = len(p)
		if uint64(n) > uint64(s.skip) {
			n = int(s.skip)
		}
		s.skip -= uint32(n)
		return n, h, false
	}
	if s.have == 0 && len(p) >= headerLen {
		h = parseHeader(p)
		n = headerLen
	} else {
		n = copy(s.hdr[s.have:], p)
		s.have += uint8(n)
		if s.have < headerLen {
			return n, h, false
		}
		s.have = 0
		h = parseHeader(s.hdr[:])
	}
	s.skip = h.length
	switch h.typ {
	case frameHeaders, framePushPromise, frameContinuation:
		s.inBlock = h.flags&flagEndHeaders == 0
	default:
		s.inBlock = false
	}
	return n, h, true
}

// skipAll scans all of p, ignoring its frame headers.
func (s *scanner) skipAll(p []byte) {
	for len(p) > 0 {
		n, _, _ := s.next(p)
		p = p[n:]
	}
}

// boundary returns the length of the shortest prefix of p after which the
// stream is at a frame boundary, consuming it, or -1 with all of p
// consumed if there is none.
func (s *scanner) boundary(p []byte) int {
	for i := 0; ; {
		if s.atBoundary() {
			return i
		}
		if i == len(p) {
			return -1
		}
		n, _, _ := s.next(p[i:])
		i += n
	}
}
