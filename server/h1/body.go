package h1

import (
	"context"
	"errors"
	"io"
	"net/http"
)

// body is a request's body, framed by Content-Length or chunked. It
// reads what the head's read left in the buffer first, then the
// connection; a large read of a Content-Length body goes straight into
// the caller's slice.
type body struct {
	c       *conn
	w       *response // to send 100 Continue before the first read
	req     *http.Request
	left    int64 // bytes of the body (Content-Length) or chunk left
	chunked bool
	crlf    bool  // a chunk's data ended: its CRLF comes next
	cont    bool  // 100 Continue is owed on the first read
	excess  int64 // framing bytes beyond what the data pays for
	err     error
	closed  bool
}

var (
	errChunkLine     = errors.New("h1: malformed chunk-size line (RFC 9112 section 7.1)")
	errChunkCRLF     = errors.New("h1: a chunk's data does not end in CRLF")
	errChunkTooLong  = errors.New("h1: a chunk-size line longer than 4096 bytes")
	errTrailer       = errors.New("h1: malformed trailer section")
	errChunkOverhead = errors.New("h1: the chunked body has too much framing for its data")
	errAfterAnswer   = errors.New("h1: the request body was read after the answer, with no 100 Continue sent")
)

// maxChunkLine bounds a chunk-size line with its extensions, as
// net/http's does.
const maxChunkLine = 4096

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.cont {
		if err := b.sendContinue(); err != nil {
			b.err = err
			return 0, err
		}
	}
	if b.chunked {
		return b.readChunked(p)
	}
	n, err := b.c.readBody(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	if b.left == 0 {
		b.err = io.EOF
		b.finished()
		if n > 0 {
			return n, nil
		}
		return 0, io.EOF
	}
	if err != nil {
		b.err = unexpected(err)
		b.c.clientGone()
		return n, b.err
	}
	return n, nil
}

// sendContinue writes 100 Continue before the first read of a body the
// client waits to send.
func (b *body) sendContinue() error {
	b.cont = false
	if b.w.headSent {
		return errAfterAnswer
	}
	if b.w.wroteContinue {
		return nil
	}
	b.w.wroteContinue = true
	_, err := b.c.io.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
	return err
}

func (b *body) readChunked(p []byte) (int, error) {
	if b.left == 0 {
		if err := b.nextChunk(); err != nil {
			b.err = err
			if err == io.EOF {
				b.finished()
			} else {
				b.c.clientGone()
			}
			return 0, err
		}
	}
	n, err := b.c.readBody(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	if err != nil && n == 0 {
		b.err = unexpected(err)
		b.c.clientGone()
		return 0, b.err
	}
	b.crlf = b.left == 0
	return n, nil
}

// nextChunk reads up to the next chunk's data: the CRLF ending the one
// before, and the chunk-size line. A last chunk reads the trailer
// section and returns io.EOF.
func (b *body) nextChunk() error {
	if b.crlf {
		line, err := b.c.readLine(maxChunkLine)
		if err != nil {
			return unexpected(err)
		}
		if len(line) != 0 {
			return errChunkCRLF
		}
		b.crlf = false
	}
	line, err := b.c.readLine(maxChunkLine)
	if err != nil {
		return unexpected(err)
	}
	size, ok := chunkSize(line)
	if !ok {
		return errChunkLine
	}
	// Framing bytes beyond 16 a chunk plus twice its data count
	// against 16 KiB, as in net/http: a body of tiny chunks with long
	// extensions is work without content.
	b.excess = max(b.excess+int64(len(line))+4-16-2*size, 0)
	if b.excess > 16<<10 {
		return errChunkOverhead
	}
	if size > 0 {
		b.left = size
		return nil
	}
	if err := b.readTrailers(); err != nil {
		return err
	}
	return io.EOF
}

// readTrailers reads the trailer section into r.Trailer, bounded as a
// head is.
func (b *body) readTrailers() error {
	total, count := 0, 0
	for {
		line, err := b.c.readLine(b.c.srv.maxHeaderBytes())
		if err != nil {
			return unexpected(err)
		}
		if len(line) == 0 {
			return nil
		}
		total += len(line) + 2
		count++
		if total > b.c.srv.maxHeaderBytes() || count > b.c.srv.maxHeaderCount() {
			return errTrailer
		}
		line = append([]byte(nil), line...) // the buffer moves on
		f, perr := parseField(line, 0, len(line))
		if perr != nil {
			return errTrailer
		}
		canonicalize(f.name.of(line))
		if b.req.Trailer == nil {
			b.req.Trailer = http.Header{}
		}
		b.req.Trailer.Add(string(f.name.of(line)), string(f.value.of(line)))
	}
}

// chunkSize parses a chunk-size line: 1*HEXDIG, then chunk extensions
// (ignored once checked), RFC 9112 section 7.1.1.
func chunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		d, ok := hexVal(line[i])
		if !ok {
			break
		}
		if i >= 15 {
			return 0, false // no chunk is 2^60 bytes; and no overflow
		}
		n = n<<4 | int64(d)
	}
	if i == 0 {
		return 0, false
	}
	return n, validExtensions(line[i:])
}

// validExtensions checks *( ";" ext-name [ "=" ext-val ] ). RFC 9112
// allows whitespace (BWS) around ";" and "="; net/http's decoder does
// not, and this one is never the more lenient of the two.
func validExtensions(s []byte) bool {
	i := 0
	token := func() bool {
		j := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		return i > j
	}
	for i < len(s) {
		if s[i] != ';' {
			return false
		}
		i++
		if !token() {
			return false
		}
		if i < len(s) && s[i] == '=' {
			i++
			if i < len(s) && s[i] == '"' {
				if !quoted(s, &i) {
					return false
				}
			} else if !token() {
				return false
			}
		}
	}
	return true
}

// quoted skips a quoted-string at s[*i].
func quoted(s []byte, i *int) bool {
	for j := *i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			*i = j + 1
			return true
		case c == '\\':
			j++
			if j == len(s) || s[j] < ' ' && s[j] != '\t' || s[j] == 0x7f {
				return false
			}
		case c < ' ' && c != '\t' || c == 0x7f:
			return false
		}
	}
	return false
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unexpected turns the end of the connection inside a body into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// finished notes the body was read whole, so the watch for the client
// leaving may start if it was asked for.
func (b *body) finished() {
	if b.c.ctx != nil && b.c.ctx.watching() {
		b.c.watchClient()
	}
}

// done reports whether the body was read to its end.
func (b *body) done() bool { return b.err == io.EOF }

// Close stops the handler's reading; what is left unread makes the
// connection close after the answer (the engine cannot tell where a
// next request would start without reading it all).
func (b *body) Close() error {
	b.closed = true
	return nil
}

// readBody reads body bytes into p: what is buffered first, then the
// connection, straight into p when p is large.
func (c *conn) readBody(p []byte) (int, error) {
	if c.r < c.w {
		n := copy(p, c.rb.b[c.r:c.w])
		c.r += n
		return n, nil
	}
	if c.rerr != nil {
		return 0, c.rerr
	}
	if len(p) >= len(c.rb.b)/2 {
		n, err := c.io.Read(p)
		if err != nil && n == 0 {
			c.rerr = err
		}
		return n, err
	}
	c.r, c.w = 0, 0
	if err := c.fill(len(c.rb.b)); err != nil {
		c.rerr = err
		return 0, err
	}
	n := copy(p, c.rb.b[c.r:c.w])
	c.r += n
	return n, nil
}

// readLine returns the next CRLF-ended line without its CRLF, valid
// until the next read. A bare LF, a CR inside the line, or a line over
// max bytes is an error.
func (c *conn) readLine(max int) ([]byte, error) {
	scanned := 0
	for {
		buf := c.rb.b[c.r:c.w]
		for i := scanned; i < len(buf); i++ {
			switch buf[i] {
			case '\n':
				if i == 0 || buf[i-1] != '\r' {
					return nil, errChunkLine
				}
				c.r += i + 1
				return buf[:i-1], nil
			case '\r':
				if i+1 < len(buf) && buf[i+1] != '\n' {
					return nil, errChunkLine
				}
			}
		}
		scanned = len(buf)
		if scanned > max+1 {
			return nil, errChunkTooLong
		}
		if c.rerr != nil {
			return nil, c.rerr
		}
		if c.r > 0 && c.w == len(c.rb.b) {
			n := copy(c.rb.b, buf)
			c.r, c.w = 0, n
		}
		if err := c.fill(max + 2); err != nil {
			if err == errTooLarge {
				return nil, errChunkTooLong
			}
			c.rerr = err
			return nil, err
		}
	}
}

// clientGone cancels the request's context: its body could not be read
// because the client left.
func (c *conn) clientGone() {
	if c.ctx != nil && c.rerr != nil {
		c.ctx.cancel(context.Canceled)
	}
}
