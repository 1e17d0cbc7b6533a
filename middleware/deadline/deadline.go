// Package deadline stops slow clients from holding a connection: every
// read of the request body and every write of the response must make
// progress within an idle limit, as nginx's client_body_timeout and
// send_timeout do. A whole-request read or write timeout, if configured,
// still caps the total.
//
// The write deadline is moved at most once per grain (a 64th of the idle
// limit) and then set a grain beyond it: a response written in many quick
// pieces costs one deadline, not one per piece, and a client that stops
// reading is cut off after between the idle limit and the limit plus a
// grain without progress, never before the limit.
package deadline

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/splice"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
)

// Limits are the idle limits per read and per write, and the whole-request
// caps net/http enforces (ReadTimeout, WriteTimeout), which a per-read
// deadline must not extend. Zero means none.
type Limits struct {
	BodyIdle, SendIdle    time.Duration
	ReadTotal, WriteTotal time.Duration
}

// Middleware applies l to every request. With no idle limit it returns
// next unchanged.
//
// On HTTP/2 and HTTP/3 a deadline belongs to one stream, not to the
// connection, and a stream starts with none of its own: no deadline is set
// before the handler writes or reads, and none on a stream whose request
// context is done (reset by the client, or its connection gone). This
// matters because x/net's HTTP/2 server arms a timer for the first
// deadline of a stream even when the stream has closed in the meantime,
// and that timer holds the stream until it fires: a client opening and
// resetting streams at once would pin each one for the whole idle limit.
// When the handler returns, a deadline it caused is cleared if the stream
// is gone (which stops such a timer) and otherwise extended, to bound the
// server's final flush as on HTTP/1.1; the server stops a live stream's
// timer itself when the stream ends.
func Middleware(l Limits) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l.BodyIdle <= 0 && l.SendIdle <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			g := &guard{rw: w}
			if r.ProtoMajor >= 2 {
				g.stream = r.Context()
			}
			if l.BodyIdle > 0 && r.Body != nil && r.Body != http.NoBody {
				// On a copy: net/http looks at its own request's Body type
				// after the handler (to answer Expect: 100-continue
				// correctly), and must still see its own reader.
				r = r.WithContext(r.Context())
				r.Body = &body{ReadCloser: r.Body, g: g, idle: l.BodyIdle, cap: capAt(start, l.ReadTotal)}
				if g.stream != nil {
					defer g.finishRead()
				}
			}
			if l.SendIdle > 0 {
				g.w = writer{g: g, idle: l.SendIdle, cap: capAt(start, l.WriteTotal)}
				g.w.Reset(w, nil)
				if g.stream == nil {
					// A deadline left by an earlier request on this
					// keep-alive connection may have passed: start afresh.
					g.w.extend()
				}
				// Bound the final flush the server does after the
				// handler; on HTTP/1.1 the next request on the connection
				// starts afresh again.
				defer g.w.finish()
				w = &g.w
			}
			next.ServeHTTP(w, r)
		})
	}
}

// guard is one request's state, with its response writer in the same
// allocation. Deadlines are set on rw, the server's writer, through
// wrap's allocation-free helpers.
type guard struct {
	rw http.ResponseWriter
	w  writer
	// stream is the request context on HTTP/2 and HTTP/3, done once the
	// stream is gone; nil on HTTP/1.
	stream context.Context
	// readSet and writeSet record that a deadline was set on the stream.
	readSet, writeSet bool
}

// settable reports whether a deadline may be set: always on HTTP/1, and on
// a stream until it is gone.
func (g *guard) settable() bool { return g.stream == nil || g.stream.Err() == nil }

// gone reports whether g is a stream that has ended.
func (g *guard) gone() bool { return g.stream != nil && g.stream.Err() != nil }

// finishRead runs when a stream's handler returns: a read deadline set on
// a stream that is gone is cleared, which stops a timer the server may
// have armed after the stream closed.
func (g *guard) finishRead() {
	if g.readSet && g.gone() {
		_ = wrap.SetReadDeadline(g.rw, time.Time{})
	}
}

func capAt(start time.Time, total time.Duration) time.Time {
	if total <= 0 {
		return time.Time{}
	}
	return start.Add(total)
}

// next is now+idle, but never later than cap (when set).
func next(idle time.Duration, cap time.Time) time.Time { return nextFrom(time.Now(), idle, cap) }

func nextFrom(now time.Time, idle time.Duration, cap time.Time) time.Time {
	t := now.Add(idle)
	if !cap.IsZero() && t.After(cap) {
		return cap
	}
	return t
}

// grains is how many times per idle limit the write deadline is moved at
// most.
const grains = 64

// body sets a read deadline before each read of the request body.
type body struct {
	io.ReadCloser
	g    *guard
	idle time.Duration
	cap  time.Time
	eof  bool
}

func (b *body) Read(p []byte) (int, error) {
	// After EOF no deadline is set again: net/http clears it when it
	// starts reading in the background to notice a client going away, and
	// a new one would make that read fail and cancel a long response.
	b.arm()
	n, err := b.ReadCloser.Read(p)
	b.eof = err == io.EOF
	return n, err
}

// arm sets the read deadline for the read or wait about to start.
func (b *body) arm() {
	if !b.eof && b.g.settable() {
		b.g.readSet = b.g.stream != nil
		_ = wrap.SetReadDeadline(b.g.rw, next(b.idle, b.cap))
	}
}

// SpliceTo implements splice.Source when the body it wraps does: the
// read deadline is set before each wait for the client's bytes, as before
// each Read.
func (b *body) SpliceTo(dst *net.TCPConn, max int64, h splice.Hooks) (int64, error) {
	s, ok := b.ReadCloser.(splice.Source)
	if !ok || b.eof {
		return 0, errors.ErrUnsupported
	}
	return s.SpliceTo(dst, max, h.Then(true, b.arm))
}

// writer sets a write deadline before the writes of the response.
type writer struct {
	wrap.Writer
	g    *guard
	idle time.Duration
	cap  time.Time
	// moved is when extend last set the deadline (to moved+idle+grain);
	// zero before the first.
	moved time.Time
	src   armed // the body ReadFrom sends, while it does
}

// armed is a splice.Source whose sending extends the write deadline:
// before each wait for the client to take more, or after each read when
// the body is copied after all.
type armed struct {
	splice.Source
	w *writer
}

// Read extends the deadline once the target's bytes are in, not before
// waiting for them: the writer below copies them to the client next,
// and a target pausing longer than send_timeout (within its read_timeout)
// must not leave that write a deadline already passed.
func (a *armed) Read(p []byte) (int, error) {
	n, err := a.Source.Read(p)
	a.w.extend()
	return n, err
}

func (a *armed) SpliceTo(dst *net.TCPConn, max int64, h splice.Hooks) (int64, error) {
	return a.Source.SpliceTo(dst, max, h.Then(false, a.w.extend))
}

// extend moves the write deadline to the idle limit plus a grain from
// now, unless it moved less than a grain ago: then it is still more than
// the idle limit away. On a stream that is gone it sets none.
func (w *writer) extend() {
	if !w.g.settable() {
		return
	}
	now := time.Now()
	grain := w.idle / grains
	if !w.moved.IsZero() && now.Sub(w.moved) < grain {
		return
	}
	w.moved = now
	w.g.writeSet = w.g.writeSet || w.g.stream != nil
	_ = wrap.SetWriteDeadline(w.g.rw, nextFrom(now, w.idle+grain, w.cap))
}

// finish runs when the handler returns. On HTTP/1 it extends the deadline
// over the final flush. On a stream it does so only if the handler's
// writes set one (a response of headers alone waits for no flow
// control), and clears it instead if the stream is gone.
func (w *writer) finish() {
	switch {
	case w.g.stream == nil:
		w.extend()
	case !w.g.writeSet:
	case w.g.gone():
		_ = wrap.SetWriteDeadline(w.g.rw, time.Time{})
	default:
		w.extend()
	}
}

func (w *writer) Write(p []byte) (int, error) {
	w.extend()
	return w.Writer.Write(p)
}

// FlushError and Flush pass through so streaming responses still stream.
func (w *writer) FlushError() error {
	w.extend()
	return w.Writer.FlushError()
}

func (w *writer) Flush() { _ = w.FlushError() }

// ReadFrom keeps sendfile for static files while extending the deadline
// per chunk, so a large download is bounded per pause, not in total. The
// kernel only sends a file directly from an *os.File under at most one
// io.LimitedReader, so a limited src is unwrapped and re-limited per chunk.
// A body on another connection (a splice.Source) goes down whole, and the
// deadline is extended before each wait for the client instead (and each
// read, should a writer below copy it).
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if s, ok := src.(splice.Source); ok {
		w.extend() // for the head, written first
		w.src = armed{Source: s, w: w}
		defer func() { w.src = armed{} }()
		return w.Writer.ReadFrom(&w.src)
	}
	const chunk = 1 << 20
	inner, remain := src, int64(-1)
	if lr, ok := src.(*io.LimitedReader); ok {
		inner, remain = lr.R, lr.N
		defer func() { lr.N = remain }()
	}
	var total int64
	for remain != 0 {
		n := int64(chunk)
		if remain > 0 && remain < n {
			n = remain
		}
		w.extend()
		got, err := w.Writer.ReadFrom(&io.LimitedReader{R: inner, N: n})
		total += got
		if remain > 0 {
			remain -= got
		}
		if err != nil || got < n {
			return total, err
		}
	}
	return total, nil
}
