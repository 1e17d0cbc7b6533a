package h1client

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strings"
	"time"
)

// bodyReader reads one response body off its connection, bounding each
// pause by the read timeout. It lives in its pconn and is reset per
// response, so reading a body allocates nothing (chunked bodies take one
// reader from net/http/httputil).
type bodyReader struct {
	pc      *pconn
	ex      *exchange // whose watch for the client leaving starts when the body outlasts one read
	remain  int64     // fixed length: bytes left; -1 for chunked or close-delimited
	chunked io.Reader // nil unless chunked
	eof     bool
	trailer http.Header // after a chunked body's end, if it had any
	err     error
}

func (b *bodyReader) reset(h *head) {
	*b = bodyReader{pc: b.pc, remain: h.length}
	if h.chunked {
		b.chunked = httputil.NewChunkedReader(b.pc.br)
	}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if pc := b.pc; pc.dl.known {
		// A read that may wait is bounded from now (deadline.go); one
		// the buffer answers needs no deadline.
		if b.chunked != nil || b.remain != 0 && pc.br.Buffered() == 0 {
			now := time.Now()
			pc.wantRead(now, after(now, pc.pool.opts.ReadTimeout))
		}
	} else {
		// With no limit, not the head's deadline either, nor the one a
		// request body's sender sets when it is done.
		pc.setReadDeadline(after(time.Now(), pc.pool.opts.ReadTimeout))
	}
	var n int
	var err error
	switch {
	case b.chunked != nil:
		n, err = b.chunked.Read(p)
		if err == io.EOF {
			if terr := b.readTrailer(); terr != nil {
				err = terr
			}
		}
	case b.remain >= 0:
		if b.remain == 0 {
			b.eof = true
			return 0, io.EOF
		}
		if b.ex != nil && b.pc.br.Buffered() == 0 {
			b.ex.watch() // this read waits for the target: notice the client leave
		}
		if int64(len(p)) > b.remain {
			p = p[:b.remain]
		}
		n, err = b.pc.br.Read(p)
		b.remain -= int64(n)
		if err == io.EOF && b.remain > 0 {
			err = io.ErrUnexpectedEOF
		} else if err == nil && b.remain == 0 {
			err = io.EOF
		}
	default:
		n, err = b.pc.br.Read(p) // until the target closes
	}
	if err == io.EOF {
		b.eof = true
	} else if err != nil {
		if isTimeout(err) {
			err = &stallError{what: "the target sent no response bytes", limit: b.pc.pool.opts.ReadTimeout, err: err}
		}
		b.err = err
	}
	return n, err
}

// stallError is a timeout that says what stalled; it is still a timeout
// (net.Error), which the funnel answers with 504.
type stallError struct {
	what  string
	limit time.Duration
	err   error
}

func (e *stallError) Error() string   { return fmt.Sprintf("%s for %v", e.what, e.limit) }
func (e *stallError) Unwrap() error   { return e.err }
func (e *stallError) Timeout() bool   { return true }
func (e *stallError) Temporary() bool { return true }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readTrailer reads the trailer section after the last chunk.
func (b *bodyReader) readTrailer() error {
	tp := textproto.NewReader(b.pc.br)
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		return fmt.Errorf("reading the trailer: %w", err)
	}
	if len(mh) > 0 {
		b.trailer = http.Header(mh)
		for _, k := range []string{"Content-Length", "Transfer-Encoding", "Trailer", "Host"} {
			delete(b.trailer, k) // never allowed as trailers (RFC 9110 section 6.5.1)
		}
	}
	return nil
}

// done reports whether the body was read to its end.
func (b *bodyReader) done() bool { return b.eof }

// trailerKeys is the Trailer field's names as a header, to announce them
// before the body (proxy.AnnounceTrailers).
func trailerKeys(v string) http.Header {
	h := http.Header{}
	for name := range strings.SplitSeq(v, ",") {
		if name = trimOWS(name); name != "" && validName(name) {
			h[textproto.CanonicalMIMEHeaderKey(name)] = nil
		}
	}
	return h
}

var errBodyWrite = errors.New("sending the request body to the target")
