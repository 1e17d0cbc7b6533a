package h1

import (
	"errors"
	"io"
	"net"

	"github.com/gatehouse-proxy/gatehouse/internal/copybuf"
	"github.com/gatehouse-proxy/gatehouse/internal/splice"
)

// SpliceTo implements splice.Source: a Content-Length body on a plain
// TCP connection moves to dst in the kernel, what the head's read left
// in the buffer first. The body's bookkeeping is Read's: its length
// left, the end noted (and the client's leaving watched for from then),
// a failure of the client's kept and the request's context canceled
// when it left. The engine's own read deadline (read_timeout) is a
// total, already on the socket; h.BeforeRead is a wrapper's per pause.
func (b *body) SpliceTo(dst *net.TCPConn, max int64, h splice.Hooks) (int64, error) {
	src, plain := b.c.io.(*net.TCPConn)
	if !splice.Available || !plain || b.chunked || b.closed || b.err != nil || max <= 0 {
		return 0, errors.ErrUnsupported
	}
	if b.cont {
		if err := b.sendContinue(); err != nil {
			b.err = err
			return 0, err
		}
	}
	c := b.c
	max = min(max, b.left)
	var done int64
	if k := min(int64(c.w-c.r), max); k > 0 {
		if h.BeforeWrite != nil {
			h.BeforeWrite()
		}
		n, err := dst.Write(c.rb.b[c.r : c.r+int(k)])
		c.r += n
		done = int64(n)
		if b.consumed(int64(n)) || err != nil {
			return done, writeError(err)
		}
	}
	if done == max {
		return done, nil
	}
	if c.rerr != nil {
		b.err = unexpected(c.rerr)
		c.clientGone()
		return done, b.err
	}
	n, err := splice.Copy(dst, src, max-done, &h)
	done += n
	b.consumed(n)
	if err != nil && !splice.IsWrite(err) {
		if err == io.ErrUnexpectedEOF {
			c.rerr = io.EOF
		} else {
			c.rerr = err
		}
		b.err = unexpected(err)
		c.clientGone()
	}
	return done, err
}

// consumed counts n bytes of the body as read; true at its end.
func (b *body) consumed(n int64) bool {
	b.left -= n
	if b.left > 0 {
		return false
	}
	b.err = io.EOF
	b.finished()
	return true
}

func writeError(err error) error {
	if err == nil {
		return nil
	}
	return &splice.WriteError{Err: err}
}

// spliceFrom sends the body of a response whose head is not yet sent
// from s, a body on another TCP connection, in the kernel; max is the
// most it may send (the declared length left, and any limit above). The
// head goes first, on its own.
func (w *response) spliceFrom(tc *net.TCPConn, s splice.Source, max int64) (int64, error) {
	w.buf()
	if !w.headSent {
		w.sendHead(nil, false)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := s.SpliceTo(tc, max, splice.Hooks{})
	w.written += n
	if splice.Unsupported(n, err) {
		return n, err
	}
	w.fail(err)
	return n, err
}

// unlimit returns the reader under src's io.LimitedReaders and the
// least of their limits and max; after reads of n bytes from it,
// relimit(src, n) brings their limits up to date.
func unlimit(src io.Reader, max int64) (io.Reader, int64) {
	for {
		lr, ok := src.(*io.LimitedReader)
		if !ok {
			return src, max
		}
		max = min(max, lr.N)
		src = lr.R
	}
}

func relimit(src io.Reader, n int64) {
	for {
		lr, ok := src.(*io.LimitedReader)
		if !ok {
			return
		}
		lr.N -= n
		src = lr.R
	}
}

// copyThrough is what ReadFrom does when the kernel cannot send the body
// (TLS, no declared length): a copy through a pooled buffer.
func copyThrough(w *response, src io.Reader) (int64, error) {
	return copybuf.Copy(writerOnly{w}, src)
}
