package h1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/gatehouse-proxy/gatehouse/internal/splice"
)

// response is the http.ResponseWriter of one request. Until the handler
// writes more than fits in its buffer, flushes or returns, the body is
// held back with the head unwritten, so that a small answer gets a
// Content-Length and goes out in one write with its head; a larger one is
// chunked (HTTP/1.1) or ends with the connection (HTTP/1.0), unless the
// handler set a Content-Length.
type response struct {
	c        *conn
	req      *http.Request
	reqClose bool // the request asked for the connection to close

	header        http.Header
	status        int
	wroteHeader   bool  // the final status is set
	headSent      bool  // the head has been written to the connection
	chunked       bool  // the body is sent chunked
	declared      int64 // the handler's Content-Length; -1 for none
	written       int64 // body bytes the handler wrote
	closeAfter    bool  // the connection ends after this answer
	wroteContinue bool
	hijacked      bool
	err           error // the first write error: every write after fails

	out *outBuf // pooled; nil until the first write
}

// outBuf holds what waits to be written: the head being built, and body
// bytes (with their chunk framing).
type outBuf struct {
	head []byte
	body []byte
}

// bodyHold is how much body a response holds back before its head is
// written; the buffer's size.
const bodyHold = 4 << 10

var outBufs = sync.Pool{New: func() any {
	return &outBuf{head: make([]byte, 0, 1024), body: make([]byte, 0, bodyHold)}
}}

func (w *response) buf() *outBuf {
	if w.out == nil {
		w.out = outBufs.Get().(*outBuf)
	}
	return w.out
}

func (w *response) release() {
	if w.out != nil {
		if cap(w.out.head) <= 16<<10 {
			w.out.head, w.out.body = w.out.head[:0], w.out.body[:0]
			outBufs.Put(w.out)
		}
		w.out = nil
	}
}

func (w *response) Header() http.Header { return w.header }

// WriteHeader sends an informational (1xx but 101) answer at once, or
// sets the final status; a second final status is ignored, as in
// net/http.
func (w *response) WriteHeader(code int) {
	if w.hijacked || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("h1: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.informational(code)
		return
	}
	w.wroteHeader = true
	w.status = code
	w.declared = -1
	if cl := w.header["Content-Length"]; len(cl) > 0 {
		if n, ok := parseLength(strings.TrimSpace(cl[0])); ok && len(cl) == 1 {
			w.declared = n
		} else {
			delete(w.header, "Content-Length") // as net/http: an invalid one is dropped
		}
	}
}

// informational writes a 1xx answer with the header as it is now.
func (w *response) informational(code int) {
	if w.err != nil || w.headSent {
		return
	}
	if code == http.StatusContinue {
		if w.wroteContinue {
			return
		}
		w.wroteContinue = true
	}
	o := w.buf()
	o.head = appendStatus(o.head[:0], code)
	o.head = appendFields(o.head, w.header, nil)
	o.head = append(o.head, "\r\n"...)
	_, err := w.c.io.Write(o.head)
	o.head = o.head[:0]
	w.fail(err)
}

func (w *response) fail(err error) {
	if err != nil && w.err == nil {
		w.err = err
		w.closeAfter = true
	}
}

// bodyAllowed reports whether the status may have a body.
func (w *response) bodyAllowed() bool {
	return w.status != http.StatusNoContent && w.status != http.StatusNotModified && w.status >= 200
}

func (w *response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !w.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.req.Method == http.MethodHead {
		return len(p), nil // counted for the Content-Length, never sent
	}
	o := w.buf()
	if !w.headSent {
		if len(o.body)+len(p) <= cap(o.body) {
			o.body = append(o.body, p...)
			return len(p), nil
		}
		w.sendHead(p, false)
	} else {
		w.sendBody(p)
	}
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func (w *response) WriteString(s string) (int, error) {
	if !w.headSent && w.out != nil && len(w.out.body)+len(s) <= cap(w.out.body) &&
		w.wroteHeader && w.bodyAllowed() && w.declared < 0 && w.req.Method != http.MethodHead && w.err == nil && !w.hijacked {
		w.written += int64(len(s))
		w.out.body = append(w.out.body, s...)
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// sendBody writes p after the head, framed.
func (w *response) sendBody(p []byte) {
	o := w.out
	if w.chunked {
		if len(o.body)+len(p)+20 <= cap(o.body) {
			o.body = appendChunk(o.body, p)
			return
		}
		o.body = strconv.AppendInt(o.body, int64(len(p)), 16)
		o.body = append(o.body, "\r\n"...)
		w.writev(o.body, p, crlf)
		return
	}
	if len(o.body)+len(p) <= cap(o.body) {
		o.body = append(o.body, p...)
		return
	}
	w.writev(o.body, p, nil)
}

var crlf = []byte("\r\n")

func appendChunk(b, p []byte) []byte {
	b = strconv.AppendInt(b, int64(len(p)), 16)
	b = append(b, "\r\n"...)
	b = append(b, p...)
	return append(b, "\r\n"...)
}

// writev writes a, b and c in one system call where the connection
// allows it, and empties the body buffer.
func (w *response) writev(a, b, c []byte) {
	if w.err != nil {
		return
	}
	cn := w.c
	cn.bufsArr = [3][]byte{a, b, c}
	cn.bufs = cn.bufsArr[:3]
	if len(c) == 0 {
		cn.bufs = cn.bufsArr[:2]
	}
	_, err := cn.bufs.WriteTo(cn.io)
	cn.bufsArr = [3][]byte{} // let the slices go
	w.fail(err)
	w.out.body = w.out.body[:0]
}

// sendHead writes the head, the body held back and p (more body). final
// means the handler has returned: the held body is all there is, and its
// length can be declared.
func (w *response) sendHead(p []byte, final bool) {
	w.headSent = true
	o := w.out
	w.frame(final, p)
	if !w.reqClose && !w.closeAfter && w.c.srv.shutting.Load() {
		w.closeAfter = true // draining: tell the client
	}
	o.head = appendStatus(o.head[:0], w.status)
	o.head = appendFields(o.head, w.header, w)
	o.head = append(o.head, "\r\n"...)
	held := o.body
	switch {
	case w.req.Method == http.MethodHead || !w.bodyAllowed():
		w.writev(o.head, nil, nil)
	case w.chunked && len(held)+len(p) > 0:
		o.head = strconv.AppendInt(o.head, int64(len(held)+len(p)), 16)
		o.head = append(o.head, "\r\n"...)
		if len(p) == 0 {
			w.writev(o.head, held, crlf)
		} else {
			w.writev(append(o.head, held...), p, crlf)
		}
	default:
		w.writev(o.head, held, p)
	}
	o.head = o.head[:0]
}

// frame decides how the body is delimited (RFC 9112 section 6.3).
func (w *response) frame(final bool, p []byte) {
	switch {
	case !w.bodyAllowed():
		if w.status != http.StatusNotModified {
			// A 304 may tell the length of what it stands for
			// (RFC 9110 section 8.6); a 1xx or 204 must not.
			delete(w.header, "Content-Length")
		}
		delete(w.header, "Transfer-Encoding")
	case w.declared >= 0:
		delete(w.header, "Transfer-Encoding")
	case final && !hasTrailers(w.header) && (w.req.Method != http.MethodHead || w.written > 0):
		w.declared = w.written
		w.header["Content-Length"] = []string{strconv.FormatInt(w.written, 10)}
		delete(w.header, "Transfer-Encoding")
	case w.req.Method == http.MethodHead:
		delete(w.header, "Transfer-Encoding")
	case w.req.ProtoMinor >= 1:
		w.chunked = true
		w.header["Transfer-Encoding"] = chunkedOnly
	default:
		w.closeAfter = true // HTTP/1.0: the body ends with the connection
		delete(w.header, "Transfer-Encoding")
	}
	if _, ok := w.header["Content-Type"]; !ok && w.bodyAllowed() && w.written > 0 && w.header.Get("Content-Encoding") == "" {
		sniff := w.out.body
		if len(sniff) == 0 {
			sniff = p
		}
		if len(sniff) > 0 {
			w.header["Content-Type"] = []string{http.DetectContentType(sniff)}
		}
	}
	if c := w.header["Connection"]; len(c) > 0 {
		for _, v := range c {
			if httpguts.HeaderValuesContainsToken([]string{v}, "close") {
				w.closeAfter = true
			}
		}
	}
}

// hasTrailers reports whether h declares or holds trailers.
func hasTrailers(h http.Header) bool {
	if _, ok := h["Trailer"]; ok {
		return true
	}
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// appendStatus appends a status line.
func appendStatus(b []byte, code int) []byte {
	if s, ok := statusLines[code]; ok {
		return append(b, s...)
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	return append(b, "\r\n"...)
}

var statusLines = func() map[int]string {
	m := map[int]string{}
	for _, c := range []int{100, 101, 103, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
		400, 401, 403, 404, 405, 408, 409, 410, 411, 412, 413, 414, 415, 416, 421, 429, 431,
		500, 501, 502, 503, 504, 505} {
		m[c] = "HTTP/1.1 " + strconv.Itoa(c) + " " + http.StatusText(c) + "\r\n"
	}
	return m
}()

// appendFields appends the header fields; with w, those the framing adds
// (Date, Connection) and without those a head must not carry (trailers,
// invalid names). A value's CR and LF become spaces, as in net/http, so
// no handler can split the head.
func appendFields(b []byte, h http.Header, w *response) []byte {
	for k, vs := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		if w != nil && k == "Connection" && w.status != http.StatusSwitchingProtocols {
			continue // the engine says what the connection does, below
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ':', ' ')
			b = appendValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	if w == nil {
		return b
	}
	if _, ok := h["Date"]; !ok {
		b = append(b, "Date: "...)
		b = append(b, w.c.srv.date()...)
		b = append(b, "\r\n"...)
	}
	switch {
	case w.closeAfter || w.reqClose:
		b = append(b, "Connection: close\r\n"...)
	case w.req.ProtoMinor == 0:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	return b
}

func appendValue(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	start := len(b)
	b = append(b, v...)
	for i := start; i < len(b); i++ {
		if c := b[i]; c == '\r' || c == '\n' || c == 0 {
			b[i] = ' '
		}
	}
	return b
}

// date returns the Date field's value, formatted once a second.
func (s *Server) date() string {
	now := time.Now()
	sec := now.Unix()
	if d := s.dateText.Load(); d != nil && d.sec == sec {
		return d.text
	}
	d := &dateText{sec: sec, text: now.UTC().Format(http.TimeFormat)}
	s.dateText.Store(d)
	return d.text
}

type dateText struct {
	sec  int64
	text string
}

// Flush writes the head (chunked, unless a Content-Length was set) and
// what is held.
func (w *response) Flush() { w.FlushError() }

func (w *response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.buf()
	if !w.headSent {
		w.sendHead(nil, false)
	} else if len(w.out.body) > 0 {
		w.writev(w.out.body, nil, nil)
	}
	return w.err
}

// finish completes the answer once the handler returned: the head if not
// yet sent, the held body, the last chunk and the trailers.
func (w *response) finish() {
	if w.hijacked {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.buf()
	if !w.headSent {
		w.sendHead(nil, true)
		if !w.chunked {
			w.checkLength()
			return
		}
	}
	o := w.out
	if w.chunked {
		o.body = append(o.body, "0\r\n"...)
		o.body = appendTrailers(o.body, w.header)
		o.body = append(o.body, "\r\n"...)
	}
	if len(o.body) > 0 {
		w.writev(o.body, nil, nil)
	}
	w.checkLength()
}

// checkLength closes a connection whose body fell short of its declared
// length: the client would read the next answer as the rest of it.
func (w *response) checkLength() {
	if w.declared >= 0 && w.written < w.declared && w.req.Method != http.MethodHead && w.bodyAllowed() {
		w.closeAfter = true
	}
}

// appendTrailers appends the trailer fields: those the Trailer field
// declared, and those set with http.TrailerPrefix.
func appendTrailers(b []byte, h http.Header) []byte {
	for _, decl := range h["Trailer"] {
		for k := range strings.SplitSeq(decl, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if !httpguts.ValidHeaderFieldName(k) {
				continue
			}
			for _, v := range h[k] {
				b = append(b, k...)
				b = append(b, ':', ' ')
				b = appendValue(b, v)
				b = append(b, "\r\n"...)
			}
		}
	}
	for k, vs := range h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok && httpguts.ValidHeaderFieldName(name) {
			for _, v := range vs {
				b = append(b, name...)
				b = append(b, ':', ' ')
				b = appendValue(b, v)
				b = append(b, "\r\n"...)
			}
		}
	}
	return b
}

// ReadFrom sends a body from src: with a declared length on a plain TCP
// connection, straight from the kernel (sendfile for files, splice for
// sockets and for a body on another connection, a splice.Source under
// any io.LimitedReaders); otherwise through Write.
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_, typed := w.header["Content-Type"]
	tc, plain := w.c.io.(*net.TCPConn)
	if !plain || w.hijacked || w.err != nil || w.declared < 0 || !typed || !w.bodyAllowed() ||
		w.req.Method == http.MethodHead || w.written > 0 {
		return copyThrough(w, src)
	}
	if s, max := unlimit(src, w.declared-w.written); max > 0 {
		if s, ok := s.(splice.Source); ok {
			n, err := w.spliceFrom(tc, s, max)
			relimit(src, n)
			if !splice.Unsupported(n, err) {
				return n, err
			}
			// The head is out; the body goes the generic way.
		}
	}
	w.buf()
	if !w.headSent {
		w.sendHead(nil, false)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := tc.ReadFrom(io.LimitReader(src, w.declared-w.written))
	w.written += n
	w.fail(err)
	return n, err
}

type writerOnly struct{ io.Writer }

// Hijack hands the connection to the handler, with what the engine had
// read beyond the request's head.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	c := w.c
	c.unwatch()
	if w.headSent || (w.out != nil && len(w.out.body) > 0) {
		w.FlushError()
	}
	w.hijacked = true
	c.hijack = true
	if !c.rdl.IsZero() {
		c.setReadDeadline(time.Time{}) // the handler's connection now
	}
	var pending []byte
	if c.rb != nil && c.r < c.w {
		pending = append([]byte(nil), c.rb.b[c.r:c.w]...)
	}
	c.r, c.w = 0, 0
	c.putBuf()
	c.srv.forget(c)
	w.release()
	r := bufio.NewReader(&prefixReader{pending: pending, conn: c.nc})
	return c.nc, bufio.NewReadWriter(r, bufio.NewWriter(c.nc)), nil
}

// prefixReader reads what the engine had buffered, then the connection.
type prefixReader struct {
	pending []byte
	conn    net.Conn
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		return n, nil
	}
	return p.conn.Read(b)
}

// SetReadDeadline and SetWriteDeadline are for http.ResponseController.
func (w *response) SetReadDeadline(t time.Time) error {
	if w.hijacked {
		return http.ErrHijacked
	}
	w.c.rdl = t
	return w.c.io.SetReadDeadline(t)
}

func (w *response) SetWriteDeadline(t time.Time) error {
	if w.hijacked {
		return http.ErrHijacked
	}
	return w.c.io.SetWriteDeadline(t)
}

// EnableFullDuplex is for http.ResponseController: this engine always
// lets a handler read the body while it answers.
func (w *response) EnableFullDuplex() error { return nil }

var (
	_ http.ResponseWriter = (*response)(nil)
	_ http.Flusher        = (*response)(nil)
	_ http.Hijacker       = (*response)(nil)
	_ io.ReaderFrom       = (*response)(nil)
	_ io.StringWriter     = (*response)(nil)
)
