package proxy

import (
	"errors"
	"net"

	"github.com/gatehouse-proxy/gatehouse/internal/splice"
)

// SpliceTo implements splice.Source when the client's body does, so a
// large upload can go socket to socket in the kernel, with bodyGuard's
// bookkeeping: the body counts as read once SpliceTo took any of it, and
// the first error of the client's side (not the target's) is kept.
func (b *bodyGuard) SpliceTo(dst *net.TCPConn, max int64, h splice.Hooks) (int64, error) {
	s, ok := b.rc.(splice.Source)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	n, err := s.SpliceTo(dst, max, h)
	if splice.Unsupported(n, err) {
		return n, err
	}
	if !b.read.Load() {
		b.read.Store(true)
	}
	if err != nil && !splice.IsWrite(err) {
		b.readErr.CompareAndSwap(nil, &err)
	}
	return n, err
}

var _ splice.Source = (*bodyGuard)(nil)
