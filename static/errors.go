package static

import (
	"errors"
	"io/fs"
	"net/http"
	"syscall"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

var (
	// errBadPath marks a request path that cannot name a file (400).
	errBadPath = errors.New("static: malformed request path")
	// errNotFound marks a name that is never served (404).
	errNotFound = errors.New("static: not found")
)

// fail hands err, classed, to the error funnel. The client sees only the
// class's message, never a file-system path; the log sees err.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.failFn(w, r, &classed{class: classOf(err), err: err})
}

// classed is an error with the funnel class it is answered with.
type classed struct {
	class *funnel.Class
	err   error
}

func (e *classed) Error() string   { return e.err.Error() }
func (e *classed) Unwrap() []error { return []error{e.class, e.err} }

// classOf maps an error from path parsing or from the os.Root to a class.
func classOf(err error) *funnel.Class {
	switch {
	case errors.Is(err, errBadPath):
		return funnel.ErrBadRequest
	case isNotFound(err):
		return funnel.ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return funnel.ErrForbidden
	}
	return funnel.ErrInternal
}

// isNotFound reports errors meaning "this name cannot be served" rather
// than a server fault.
func isNotFound(err error) bool {
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, fs.ErrNotExist),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ELOOP),
		errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EINVAL),
		errors.Is(err, syscall.ENXIO): // a socket file
		return true
	}
	// os.Root reports a path escaping the root (through ".." or a symbolic
	// link) with an unexported, non-errno error inside the *fs.PathError;
	// the kernel's own failures are all errnos.
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) && !errors.As(pe.Err, &errno)
}
