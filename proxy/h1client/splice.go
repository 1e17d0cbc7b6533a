package h1client

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/splice"
	"github.com/gatehouse-proxy/gatehouse/proxy"
)

// spliceMin is the smallest body sent socket to socket in the kernel
// (splice(2)), in both directions, when both connections are plain TCP
// and the body is Content-Length-framed. A smaller one keeps the copy
// through the 32 KiB buffer, where its head and body leave in one write.
// BenchmarkCopy in internal/splice (the copier thread's CPU per body, on
// loopback, a noisy 2-core machine) had splice even at 16 KiB (5.6 µs
// both), ahead by a fifth at 32 KiB (11.1 against 13.5), by two fifths
// at 64 KiB (17.8 against 28.9) and by two thirds from 256 KiB; below
// 32 KiB the head's own write and the pipe's pooling eat the saving.
const spliceMin = 64 << 10

// SpliceTo implements splice.Source for a Content-Length response body
// on a plain TCP connection: what the head's read buffered first, then
// the socket, each pause bounded by read_timeout as Read does.
func (b *bodyReader) SpliceTo(dst *net.TCPConn, max int64, h splice.Hooks) (int64, error) {
	pc := b.pc
	src, plain := pc.c.(*net.TCPConn)
	if !splice.Available || !plain || b.chunked != nil || b.remain <= 0 || b.eof || b.err != nil || max <= 0 {
		return 0, errors.ErrUnsupported
	}
	// This exchange sets its read deadline itself from here.
	pc.dl.known = false
	if b.ex != nil {
		b.ex.watch() // the body outlasts one read: notice the client leave
	}
	max = min(max, b.remain)
	var done int64
	if k := min(int64(pc.br.Buffered()), max); k > 0 {
		p, _ := pc.br.Peek(int(k))
		if h.BeforeWrite != nil {
			h.BeforeWrite()
		}
		n, err := dst.Write(p)
		pc.br.Discard(n)
		done = int64(n)
		b.took(int64(n))
		if err != nil {
			return done, &splice.WriteError{Err: err}
		}
	}
	if done == max {
		return done, nil
	}
	arm := pauses{set: pc.setReadDeadline, limit: pc.pool.opts.ReadTimeout}
	h = h.Then(true, arm.start)
	n, err := splice.Copy(dst, src, max-done, &h)
	done += n
	b.took(n)
	if err != nil && !splice.IsWrite(err) {
		if isTimeout(err) {
			err = &stallError{what: "the target sent no response bytes", limit: pc.pool.opts.ReadTimeout, err: err}
		}
		b.err = err
	}
	return done, err
}

// took counts n bytes of the body as read.
func (b *bodyReader) took(n int64) {
	b.remain -= n
	if b.remain == 0 {
		b.eof = true
	}
}

// pauses bounds each wait by limit (none when zero) through set, moving
// the deadline at most once per grain (a 64th of the limit) and then a
// grain beyond it, as the deadline middleware does: a stalled peer is cut
// off between limit and limit plus a grain after its last progress.
type pauses struct {
	set   func(time.Time)
	limit time.Duration
	moved time.Time
}

func (p *pauses) start() {
	if p.limit <= 0 {
		if p.moved.IsZero() {
			p.set(time.Time{}) // no limit, not an earlier deadline either
			p.moved = time.Unix(1, 0)
		}
		return
	}
	now := time.Now()
	grain := p.limit / 64
	if !p.moved.IsZero() && now.Sub(p.moved) < grain {
		return
	}
	p.moved = now
	p.set(now.Add(p.limit + grain))
}

// relaySpliced sends a large Content-Length body to the client through
// w's ReadFrom, which the wrappers pass down to the engine's: it splices
// when the chain ends at a plain TCP connection, and reads the body like
// any reader otherwise. ok is false when w has no ReadFrom.
func (ex *exchange) relaySpliced(w io.Writer) (ok bool, perr *proxy.Error) {
	rf, ok := w.(io.ReaderFrom)
	if !ok {
		return false, nil
	}
	body := &ex.pc.body
	_, err := rf.ReadFrom(body)
	switch {
	case err == nil && !body.eof:
		// The writer stopped early without an error (the length it
		// declared was shorter): CopyBody sends the rest, and fails.
		return false, nil
	case err == nil:
		return true, nil
	case body.err != nil:
		return true, &proxy.Error{Phase: proxy.PhaseResponse, Err: body.err}
	default:
		return true, &proxy.Error{Phase: proxy.PhaseResponse, Err: err, ClientGone: true}
	}
}

// spliceBody sends a large Content-Length request body from the client's
// connection to the target's in the kernel, when the body (through its
// wrappers) is a splice.Source and both are plain TCP; it returns what it
// sent, and writeBody sends the rest (none, unless the body stopped
// early) by copying. The bookkeeping is touchReader's: the body is
// touched once any of it was taken, and the first error of the client's
// side is kept; each pause of the target's is bounded by send_timeout.
func (ex *exchange) spliceBody(pc *pconn, src *touchReader) (int64, error) {
	out := ex.out
	s, ok := out.Body.(splice.Source)
	dst, plain := pc.c.(*net.TCPConn)
	if !ok || !plain || out.ContentLength < spliceMin {
		return 0, nil
	}
	arm := pauses{set: pc.setWriteDeadline, limit: pc.pool.opts.SendTimeout}
	n, err := s.SpliceTo(dst, out.ContentLength, splice.Hooks{BeforeWrite: arm.start})
	if splice.Unsupported(n, err) {
		return 0, nil
	}
	*src.touched = true // the client's bytes were taken, even if none reached the target
	var we *splice.WriteError
	switch {
	case errors.As(err, &we):
		return n, we.Err // the target's: writeBody tells a stall from an abort
	case err != nil:
		if src.err == nil {
			src.err = err
		}
	}
	return n, err
}
