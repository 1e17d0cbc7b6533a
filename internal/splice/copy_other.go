//go:build !linux

package splice

import (
	"errors"
	"net"
)

// Available reports whether Copy can move bytes on this system.
const Available = false

// Copy is splice(2)'s, which only Linux has: elsewhere it does nothing
// and callers read and write instead.
func Copy(dst, src *net.TCPConn, n int64, h *Hooks) (int64, error) {
	return 0, errors.ErrUnsupported
}
