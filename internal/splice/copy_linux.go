package splice

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
)

// Available reports whether Copy can move bytes on this system.
const Available = true

const (
	fMove     = 0x1
	fNonblock = 0x2
	fMore     = 0x4

	// pipeSize is what a pipe is asked to hold, as Go's own splice
	// does (1 MiB is the default pipe-max-size); a pipe that cannot
	// grow keeps its 64 KiB, and Copy only moves less per call.
	pipeSize = 1 << 20
)

// Copy moves n bytes from src to dst through a pooled pipe and returns
// how many reached dst. src ending before n bytes is io.ErrUnexpectedEOF;
// a failure of dst is a *WriteError; any other error is src's. h (nil
// for none) is called before each wait, see Hooks.
func Copy(dst, src *net.TCPConn, n int64, h *Hooks) (int64, error) {
	if h == nil {
		h = &Hooks{}
	}
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	wc, err := dst.SyscallConn()
	if err != nil {
		return 0, &WriteError{err}
	}
	p, err := getPipe()
	if err != nil {
		return 0, err
	}
	c := copier{p: p, h: h, n: n}
	for c.done < n {
		in, err := c.drain(rc)
		if err != nil || in == 0 {
			pipes.Put(p) // empty: nothing was moved into it
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return c.done, err
		}
		if err := c.pump(wc, in); err != nil {
			p.close() // it may hold what dst did not take
			return c.done, &WriteError{err}
		}
	}
	pipes.Put(p)
	return c.done, nil
}

// copier is one Copy's state, so the poller's callbacks are methods
// rather than closures capturing locals.
type copier struct {
	p    *pipe
	h    *Hooks
	n    int64 // bytes to move
	done int64 // bytes dst took
	want int   // the drain's request
	got  int   // what the drain or pump moved
	err  error // the last splice's error
}

// drain splices up to the rest of n from the socket into the (empty)
// pipe, waiting for the socket to be readable when it must.
func (c *copier) drain(rc syscall.RawConn) (int, error) {
	c.want = int(min(c.n-c.done, pipeSize))
	c.got, c.err = 0, nil
	c.h.read()
	if err := rc.Read(c.drainReady); err != nil {
		return 0, err
	}
	if c.err != nil {
		return 0, os.NewSyscallError("splice", c.err)
	}
	return c.got, nil
}

func (c *copier) drainReady(fd uintptr) bool {
	for {
		n, err := syscall.Splice(int(fd), nil, c.p.w, nil, c.want, fMove|fNonblock)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c.h.read() // this wait is bounded from now
			return false
		}
		c.got, c.err = int(n), err
		return true
	}
}

// pump splices the in bytes of the pipe into the socket, waiting for it
// to be writable when it must.
func (c *copier) pump(wc syscall.RawConn, in int) error {
	c.got, c.err = in, nil // got: what is left in the pipe
	c.h.write()
	if err := wc.Write(c.pumpReady); err != nil {
		return err
	}
	if c.err != nil {
		return os.NewSyscallError("splice", c.err)
	}
	return nil
}

func (c *copier) pumpReady(fd uintptr) bool {
	for c.got > 0 {
		flags := fMove | fNonblock
		if c.done+int64(c.got) < c.n {
			flags |= fMore // more follows: no need to push a short segment
		}
		n, err := syscall.Splice(c.p.r, nil, int(fd), nil, c.got, flags)
		switch err {
		case nil:
			c.got -= int(n)
			c.done += n
		case syscall.EINTR:
		case syscall.EAGAIN:
			c.h.write()
			return false
		default:
			c.err = err
			return true
		}
	}
	return true
}

// pipe is a pipe's two ends. An empty pipe goes back to the pool; the
// pool's pipes are closed when the garbage collector drops them.
type pipe struct {
	r, w    int
	cleanup runtime.Cleanup
}

var pipes sync.Pool

func getPipe() (*pipe, error) {
	if p, ok := pipes.Get().(*pipe); ok {
		return p, nil
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	// Best effort: a user over its pipe-user-pages-soft keeps 64 KiB.
	syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_SETPIPE_SZ, pipeSize)
	p := &pipe{r: fds[0], w: fds[1]}
	p.cleanup = runtime.AddCleanup(p, closeFds, fds)
	return p, nil
}

func (p *pipe) close() {
	p.cleanup.Stop()
	closeFds([2]int{p.r, p.w})
}

func closeFds(fds [2]int) {
	syscall.Close(fds[0])
	syscall.Close(fds[1])
}
