package compress

import (
	"bufio"
	"cmp"
	"io"
	"net"
	"net/http"

	"github.com/gatehouse-proxy/gatehouse/internal/copybuf"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
)

// state is where a writer is in its response.
type state uint8

const (
	// pending: the header is held (with the status the handler set, and
	// maybe the first bytes of the body) until what to do is known.
	pending state = iota
	// plain: the header is sent and the body passes through untouched.
	plain
	// compressing: the header is sent and the body goes through enc.
	compressing
	// hijacked: the handler took the connection.
	hijacked
)

// reason is why the header is being sent.
type reason uint8

const (
	done     reason = iota // the handler returned: the body is complete
	writing                // a write: more of the body may follow
	flushing               // a Flush: the client is to have what there is
)

// verdict is what a response gets.
type verdict uint8

const (
	untouched  verdict = iota // not a compressible type, or no content
	vary                      // Vary: Accept-Encoding, not compressed
	varyWeak                  // a 304: Vary, and the ETag the 200 would have
	compressed                // Vary, Content-Encoding, weak ETag, no length
	undecided                 // compressed if the body is long enough
)

// writer is the ResponseWriter the handler writes to. It holds the
// header back until the first write, Flush or the handler's return (as
// net/http itself does), so that the body's size can decide when there
// is no Content-Length; BeforeHeader then edits the header and chooses
// the path of the body.
type writer struct {
	wrap.Writer
	c *compressor
	// pick is the index in c.encodings of the coding the request takes,
	// -1 for none (the client's choice, a HEAD or a Range request).
	pick  int
	code  int // the status the handler set; 0 for an implicit 200
	state state
	// held is set once the body's first bytes are being held in buf.
	held bool
	buf  []byte
	// why and known (the body bytes written so far) are what the header
	// is being sent with, for BeforeHeader.
	why   reason
	known int64
	enc   encoder
	// sse is set for a compressed event stream: every write is flushed.
	sse bool
}

// status is the status the response will have.
func (w *writer) status() int { return cmp.Or(w.code, http.StatusOK) }

// WriteHeader implements http.ResponseWriter. A final status is held
// with the header; informational ones, and 101, pass straight through.
func (w *writer) WriteHeader(code int) {
	switch {
	case w.state != pending || code < 100 || code > 999:
		// Late or invalid: net/http logs or panics, as without us.
		w.Writer.WriteHeader(code)
	case code == http.StatusSwitchingProtocols:
		w.state = plain
		w.Writer.WriteHeader(code)
	case code < 200:
		w.Writer.WriteHeader(code)
	case w.code == 0:
		w.code = code
	}
}

// Write implements http.ResponseWriter.
func (w *writer) Write(p []byte) (int, error) {
	switch w.state {
	case hijacked:
		return 0, http.ErrHijacked
	case pending:
		if w.hold(p) {
			return len(p), nil
		}
		if err := w.commit(writing, p); err != nil {
			return 0, err
		}
	}
	return w.write(p)
}

// write writes p once the header is sent.
func (w *writer) write(p []byte) (int, error) {
	if w.state != compressing {
		return w.Writer.Write(p)
	}
	n, err := w.enc.Write(p)
	if err == nil && w.sse {
		err = w.flush()
	}
	return n, err
}

// ReadFrom implements io.ReaderFrom. A body sent untouched still reaches
// the base's ReadFrom, and so sendfile; one compressed is copied through
// the encoder.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if w.state == pending && !w.held && w.decided(0) {
		if err := w.commit(writing, nil); err != nil {
			return 0, err
		}
	}
	if w.state == plain {
		return w.Writer.ReadFrom(src)
	}
	bp := copybuf.Get()
	defer copybuf.Put(bp)
	var total int64
	for {
		if w.state == plain {
			n, err := w.Writer.ReadFrom(src)
			return total + n, err
		}
		n, rerr := src.Read(*bp)
		if n > 0 {
			if _, err := w.Write((*bp)[:n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// FlushError sends the header if it was held, and everything written so
// far through the encoder and the writers below.
func (w *writer) FlushError() error {
	switch w.state {
	case hijacked:
		return http.ErrHijacked
	case pending:
		if err := w.commit(flushing, nil); err != nil {
			return err
		}
	}
	return w.flush()
}

// Flush implements http.Flusher.
func (w *writer) Flush() { _ = w.FlushError() }

func (w *writer) flush() error {
	if w.state == compressing {
		if err := w.enc.Flush(); err != nil {
			return err
		}
	}
	return w.Writer.FlushError()
}

// Hijack implements http.Hijacker: after it, nothing more is written.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.Writer.Hijack()
	if err == nil {
		w.state = hijacked
	}
	return conn, brw, err
}

// finish completes the response once the handler has returned: a header
// still held is sent with what was held of the body, and the encoder's
// stream is ended. A failure means the client is gone; there is nobody
// left to tell.
func (w *writer) finish() {
	if w.state == pending {
		_ = w.commit(done, nil)
	}
	if w.state == compressing {
		_ = w.enc.Close()
	}
}

// hold reports whether p was kept back, with the header, because the
// verdict waits for more of the body: for its size when there is no
// Content-Length, or for bytes to sniff a missing Content-Type from.
// It keeps back less than c.minBytes.
func (w *writer) hold(p []byte) bool {
	if !w.held {
		if w.decided(int64(len(p))) {
			return false
		}
		w.held = true
	}
	if int64(len(w.buf)+len(p)) >= w.c.minBytes {
		return false
	}
	w.buf = append(w.buf, p...)
	return true
}

// decided reports whether the verdict is known with n bytes of body.
func (w *writer) decided(n int64) bool {
	code := w.status()
	if sniffs(w.Header(), code) {
		return false
	}
	return w.judge(code, n, writing) != undecided
}

// commit sends the header, p being the write that made it go (nil for
// none), then what was held of the body.
func (w *writer) commit(why reason, p []byte) error {
	code := w.status()
	if h := w.Header(); sniffs(h, code) {
		data := w.buf
		if len(data) == 0 {
			data = p
		}
		if len(data) > 0 {
			// As net/http would, from the bytes it would see: with the
			// body compressed it could not.
			h["Content-Type"] = []string{http.DetectContentType(data)}
		}
	}
	w.why, w.known = why, int64(len(w.buf)+len(p))
	w.Writer.WriteHeader(code) // calls BeforeHeader
	if len(w.buf) == 0 {
		return nil
	}
	held := w.buf
	w.buf, w.held = w.buf[:0], false
	_, err := w.write(held)
	return err
}

// sniffs reports whether net/http would sniff the Content-Type of a
// response with header h and status code from its body.
func sniffs(h http.Header, code int) bool {
	if _, typed := h["Content-Type"]; typed {
		return false
	}
	ce := h["Content-Encoding"]
	return (len(ce) == 0 || ce[0] == "") && code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// BeforeHeader implements wrap.Hooks: the header is about to be sent
// with status, so what the response gets is decided now.
func (w *writer) BeforeHeader(status int) {
	if w.state != pending {
		return
	}
	w.state = plain
	h := w.Header()
	switch w.judge(status, w.known, w.why) {
	case vary, undecided:
		addVary(h)
	case varyWeak:
		addVary(h)
		weakenETag(h)
	case compressed:
		addVary(h)
		weakenETag(h)
		delete(h, "Content-Length")
		delete(h, "Accept-Ranges") // the offsets would be the identity body's
		cd := w.c.codings[w.pick]
		h["Content-Encoding"] = contentEncoding[cd]
		w.enc = getEncoder(cd, w.c.levels[w.pick], &w.Writer)
		w.sse = isEventStream(h.Get("Content-Type"))
		w.state = compressing
	}
}

// judge decides what a response with status and n bytes of body so far
// gets; why says whether more may follow. See the package documentation.
func (w *writer) judge(status int, n int64, why reason) verdict {
	if status < 200 || status == http.StatusNoContent {
		return untouched // 101 comes here, through FinalizeHeader
	}
	h := w.Header()
	ct, typed := h["Content-Type"]
	if typed && (len(ct) == 0 || !w.c.types.match(ct[0])) {
		return untouched
	}
	if status == http.StatusNotModified {
		// Usually without a Content-Type: it carries what the 200 would.
		if w.pick >= 0 && !encoded(h) && !noTransform(h) {
			return varyWeak
		}
		return vary
	}
	switch {
	case !typed:
		return untouched
	case w.pick < 0, status == http.StatusPartialContent, encoded(h), noTransform(h):
		return vary
	}
	if size, ok := contentLength(h); ok {
		if size < w.c.minBytes {
			return vary
		}
		return compressed
	}
	switch {
	case n >= w.c.minBytes, why == flushing, isEventStream(ct[0]):
		return compressed
	case why == writing:
		return undecided
	}
	return vary
}

var (
	_ http.ResponseWriter = (*writer)(nil)
	_ http.Flusher        = (*writer)(nil)
	_ http.Hijacker       = (*writer)(nil)
	_ io.ReaderFrom       = (*writer)(nil)
	_ wrap.Hooks          = (*writer)(nil)
	_ wrap.Finalizer      = (*writer)(nil)
)
