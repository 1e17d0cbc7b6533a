package static

import (
	"errors"
	"io/fs"
	"net/http"
	"syscall"
)

var (
	// errBadPath marks a request path that cannot name a file (400).
	errBadPath = errors.New("static: malformed request path")
	// errNotFound marks a name that is never served (404).
	errNotFound = errors.New("static: not found")
)

// fail is the package's one error funnel: it maps err to a status and
// writes a short plain-text body that never contains a file-system path.
func fail(w http.ResponseWriter, err error) {
	code := statusOf(err)
	http.Error(w, http.StatusText(code), code)
}

// statusOf maps an error from path parsing or from the os.Root to a status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadPath):
		return http.StatusBadRequest
	case isNotFound(err):
		return http.StatusNotFound
	case errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// isNotFound reports errors meaning "this name cannot be served" rather
// than a server fault.
func isNotFound(err error) bool {
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, fs.ErrNotExist),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ELOOP),
		errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EINVAL):
		return true
	}
	// os.Root reports a path escaping the root (through ".." or a symbolic
	// link) with an unexported, non-errno error inside the *fs.PathError;
	// the kernel's own failures are all errnos.
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) && !errors.As(pe.Err, &errno)
}
