// Package deadline stops slow clients from holding a connection: every
// read of the request body and every write of the response must make
// progress within an idle limit, as nginx's client_body_timeout and
// send_timeout do. A whole-request read or write timeout, if configured,
// still caps the total.
package deadline

import (
	"io"
	"net/http"
	"time"
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
func Middleware(l Limits) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l.BodyIdle <= 0 && l.SendIdle <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rc := http.NewResponseController(w)
			if l.BodyIdle > 0 && r.Body != nil && r.Body != http.NoBody {
				// On a copy: net/http looks at its own request's Body type
				// after the handler (to answer Expect: 100-continue
				// correctly), and must still see its own reader.
				r = r.WithContext(r.Context())
				r.Body = &body{ReadCloser: r.Body, rc: rc, idle: l.BodyIdle, cap: capAt(start, l.ReadTotal)}
			}
			if l.SendIdle > 0 {
				dw := &writer{ResponseWriter: w, rc: rc, idle: l.SendIdle, cap: capAt(start, l.WriteTotal)}
				// A deadline left by an earlier request on this
				// keep-alive connection may have passed: start afresh.
				dw.extend()
				// Bound the final flush net/http does after the handler;
				// the next request on the connection starts afresh again.
				defer dw.extend()
				w = dw
			}
			next.ServeHTTP(w, r)
		})
	}
}

func capAt(start time.Time, total time.Duration) time.Time {
	if total <= 0 {
		return time.Time{}
	}
	return start.Add(total)
}

// next is now+idle, but never later than cap (when set).
func next(idle time.Duration, cap time.Time) time.Time {
	t := time.Now().Add(idle)
	if !cap.IsZero() && t.After(cap) {
		return cap
	}
	return t
}

// body sets a read deadline before each read of the request body.
type body struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	cap  time.Time
	eof  bool
}

func (b *body) Read(p []byte) (int, error) {
	// After EOF no deadline is set again: net/http clears it when it
	// starts reading in the background to notice a client going away, and
	// a new one would make that read fail and cancel a long response.
	if b.eof {
		return b.ReadCloser.Read(p)
	}
	_ = b.rc.SetReadDeadline(next(b.idle, b.cap))
	n, err := b.ReadCloser.Read(p)
	b.eof = err == io.EOF
	return n, err
}

// writer sets a write deadline before each write of the response.
type writer struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
	cap  time.Time
}

func (w *writer) extend() { _ = w.rc.SetWriteDeadline(next(w.idle, w.cap)) }

func (w *writer) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// FlushError and Flush pass through so streaming responses still stream.
func (w *writer) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

func (w *writer) Flush() { _ = w.FlushError() }

// ReadFrom keeps sendfile for static files while extending the deadline
// per chunk, so a large download is bounded per pause, not in total. The
// kernel only sends a file directly from an *os.File under at most one
// io.LimitedReader, so a limited src is unwrapped and re-limited per chunk.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
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
		got, err := io.Copy(w.ResponseWriter, &io.LimitedReader{R: inner, N: n})
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

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
