// Package wrap is the one base for http.ResponseWriter wrappers. Every
// middleware that wraps the writer embeds a Writer, so that Flush,
// Hijack, http.ResponseController (through Unwrap), sendfile (ReadFrom)
// and header finalization work the same through all of them, and the
// status and body size a response had are known.
//
// An embedding type overrides what it changes (Write, to transform the
// body, say) and calls the embedded Writer's method; it hears of the
// response header through Hooks, so that the Writer's own implicit
// WriteHeader (on the first Write or Flush) reaches it too. A type that
// transforms the body must also override ReadFrom (copying into its own
// Write, with io.Copy over a type that hides ReadFrom): the
// base passes ReadFrom straight down for sendfile.
package wrap

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/copybuf"
)

// Hooks is implemented by an embedding writer that must act once, just
// before the response header is written.
type Hooks interface {
	// BeforeHeader is called with the final status, before it and the
	// header are written: for the first WriteHeader with a status of 200
	// or more, for an implicit 200 at the first Write or Flush, and, for
	// a 101 written on a hijacked connection, through FinalizeHeader.
	BeforeHeader(status int)
}

// Writer wraps an http.ResponseWriter. Initialize it with Reset. Not safe
// for concurrent use, like the ResponseWriter it wraps.
type Writer struct {
	http.ResponseWriter
	hooks  Hooks
	status int
	bytes  int64
}

// Reset makes w wrap rw, with hooks (nil for none) told of the header.
func (w *Writer) Reset(rw http.ResponseWriter, hooks Hooks) {
	*w = Writer{ResponseWriter: rw, hooks: hooks}
}

// Status is the final status written, 0 while none was.
func (w *Writer) Status() int { return w.status }

// Bytes is the number of body bytes written through w.
func (w *Writer) Bytes() int64 { return w.bytes }

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteHeader implements http.ResponseWriter. Informational statuses
// (1xx) pass through without finalizing the header.
func (w *Writer) WriteHeader(code int) {
	if code >= 200 && w.status == 0 {
		w.finalize(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// FinalizeHeader runs the hooks for a response written without
// WriteHeader: a 101 written on the hijacked connection. See Finalize.
func (w *Writer) FinalizeHeader(code int) {
	if w.status == 0 {
		w.finalize(code)
	}
}

func (w *Writer) finalize(code int) {
	w.status = code
	if w.hooks != nil {
		w.hooks.BeforeHeader(code)
	}
}

// Write implements http.ResponseWriter.
func (w *Writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom passes src down to the wrapped writer's ReadFrom, so that a
// file is still sent with sendfile(2) through any number of wrappers.
func (w *Writer) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = copybuf.Copy(writerOnly{w.ResponseWriter}, src) // an HTTP/2 stream
	}
	w.bytes += n
	return n, err
}

// FlushError sends what is buffered to the client, writing the header
// first if it was not yet.
func (w *Writer) FlushError() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return Flush(w.ResponseWriter)
}

// Flush implements http.Flusher.
func (w *Writer) Flush() { _ = w.FlushError() }

// Hijack implements http.Hijacker by passing it down.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// writerOnly hides a ReadFrom method, so io.Copy does not loop into it.
type writerOnly struct{ io.Writer }

// unwrapper is what http.ResponseController walks.
type unwrapper interface{ Unwrap() http.ResponseWriter }

// Flush flushes w or the first writer under it that can, without the
// allocation of an http.ResponseController.
func Flush(w http.ResponseWriter) error {
	for {
		switch f := w.(type) {
		case interface{ FlushError() error }:
			return f.FlushError()
		case http.Flusher:
			f.Flush()
			return nil
		case unwrapper:
			w = f.Unwrap()
		default:
			return http.ErrNotSupported
		}
	}
}

// SetWriteDeadline sets the write deadline of the connection (or stream)
// under w, as http.ResponseController does, without allocating.
func SetWriteDeadline(w http.ResponseWriter, t time.Time) error {
	for {
		switch d := w.(type) {
		case interface{ SetWriteDeadline(time.Time) error }:
			return d.SetWriteDeadline(t)
		case unwrapper:
			w = d.Unwrap()
		default:
			return http.ErrNotSupported
		}
	}
}

// SetReadDeadline is SetWriteDeadline for reading the request body.
func SetReadDeadline(w http.ResponseWriter, t time.Time) error {
	for {
		switch d := w.(type) {
		case interface{ SetReadDeadline(time.Time) error }:
			return d.SetReadDeadline(t)
		case unwrapper:
			w = d.Unwrap()
		default:
			return http.ErrNotSupported
		}
	}
}

// EnableFullDuplex is http.ResponseController.EnableFullDuplex without
// the allocation.
func EnableFullDuplex(w http.ResponseWriter) error {
	for {
		switch d := w.(type) {
		case interface{ EnableFullDuplex() error }:
			return d.EnableFullDuplex()
		case unwrapper:
			w = d.Unwrap()
		default:
			return http.ErrNotSupported
		}
	}
}

// Finalizer is implemented by wrappers that edit the header when it is
// written (Writer does). A 101 response is written on the hijacked
// connection, bypassing WriteHeader, so Finalize calls FinalizeHeader on
// every wrapper in the chain first.
type Finalizer interface {
	FinalizeHeader(status int)
}

// Finalize calls FinalizeHeader(status) on every writer in w's Unwrap
// chain that has it, outermost first.
func Finalize(w http.ResponseWriter, status int) {
	for w != nil {
		if f, ok := w.(Finalizer); ok {
			f.FinalizeHeader(status)
		}
		u, ok := w.(unwrapper)
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

var (
	_ http.ResponseWriter = (*Writer)(nil)
	_ http.Flusher        = (*Writer)(nil)
	_ http.Hijacker       = (*Writer)(nil)
	_ io.ReaderFrom       = (*Writer)(nil)
	_ Finalizer           = (*Writer)(nil)
)
