// Package splice moves bytes from one TCP connection to another in the
// kernel, through a pipe (splice(2)), never copying them through user
// space; and it names the small contract by which a request or response
// body offers its socket for that through any number of wrappers
// (Source).
//
// Deadlines stay per pause: Copy calls a side's hook before every wait
// on that side, so each owner of a per-pause limit re-arms its deadline
// for the wait that is about to start, never for a chunk of bytes; a
// stalled peer fails when its own limit says, and a slow one does not
// make the other side's deadline pass.
package splice

import (
	"errors"
	"io"
	"net"
)

// Hooks are called before each wait: BeforeRead before the source's
// socket is waited on to become readable, BeforeWrite before the
// destination's to become writable (and before the first attempt of
// each, since an expired deadline fails even a read that would not
// wait). They set deadlines; nil is no hook. They run on the copying
// goroutine, and must be cheap (a hook may keep a deadline it set a
// moment ago).
type Hooks struct {
	BeforeRead, BeforeWrite func()
}

func (h *Hooks) read() {
	if h.BeforeRead != nil {
		h.BeforeRead()
	}
}

func (h *Hooks) write() {
	if h.BeforeWrite != nil {
		h.BeforeWrite()
	}
}

// Then returns h with f called after h's BeforeRead (read) or
// BeforeWrite (!read): a wrapper adding its own deadline to the hooks it
// passes on.
func (h Hooks) Then(read bool, f func()) Hooks {
	p := &h.BeforeWrite
	if read {
		p = &h.BeforeRead
	}
	if prev := *p; prev != nil {
		*p = func() { prev(); f() }
	} else {
		*p = f
	}
	return h
}

// WriteError is a failure of the destination (the peer took no more, or
// its deadline passed); any other error of Copy or SpliceTo is the
// source's.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "splice: writing: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// IsWrite reports whether err is the destination's (a *WriteError).
func IsWrite(err error) bool {
	var we *WriteError
	return errors.As(err, &we)
}

// Source is a body that can move its bytes into a TCP connection in the
// kernel. A wrapper of a body (a limit, a deadline, a bookkeeper)
// implements it by passing the call to the body it wraps, with max
// lowered or hooks added, only when it keeps its own semantics that
// way; otherwise it does not implement it, or returns ErrUnsupported.
type Source interface {
	io.Reader
	// SpliceTo moves up to max bytes of the body into dst and returns
	// how many reached it: first what the body holds in user space
	// (bytes buffered with the head), written, then the rest spliced
	// from its socket. h are dst's hooks (BeforeWrite); the body adds
	// its own BeforeRead. It returns errors.ErrUnsupported, having
	// consumed nothing, when it cannot (TLS, chunked, already failed):
	// the caller reads instead. Fewer than max bytes with a nil error
	// means the body may have ended or stopped early (a limit): the
	// caller goes on with Read, which tells which. A failure writing
	// dst is a *WriteError; any other error is the body's.
	SpliceTo(dst *net.TCPConn, max int64, h Hooks) (int64, error)
}

// Unsupported reports whether SpliceTo did nothing and the caller should
// read instead.
func Unsupported(n int64, err error) bool {
	return n == 0 && errors.Is(err, errors.ErrUnsupported)
}
