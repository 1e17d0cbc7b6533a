// Command holdconns is the idle-client load of bench/rss.sh: it opens N
// keep-alive connections to an HTTP/1.1 server, sends one GET on each and
// reads the whole answer (so each connection is where a browser leaves
// it: one request done, waiting for the next), then holds them all open
// and idle until it gets SIGTERM or SIGINT. With -read=false it reads
// nothing: each connection is a client stalled in a download, so the
// server's writes block once the socket buffers are full.
//
// It prints "ready N" on stdout once every connection has been answered
// (with -read=false: once every request is sent; N is how many are open),
// and before exiting "open N": how many the server had not closed
// meanwhile.
//
//	holdconns -addr 127.0.0.1:8080 -n 1000 [-parallel 50] [-path /] [-host bench.local] [-read=false [-rcvbuf 4096]]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server address")
	n := flag.Int("n", 1000, "connections to open and hold")
	parallel := flag.Int("parallel", 50, "connections being opened at once; it also bounds the requests in flight, so the proxy needs few upstream connections")
	path := flag.String("path", "/", "path of the one GET sent on each connection")
	host := flag.String("host", "bench.local", "Host header")
	read := flag.Bool("read", true, "read the answer; false leaves it unread, a stalled download")
	rcvbuf := flag.Int("rcvbuf", 0, "SO_RCVBUF of each connection in bytes, 0 for the system's; a small one makes a stalled download stall early")
	flag.Parse()

	req := []byte("GET " + *path + " HTTP/1.1\r\nHost: " + *host + "\r\nUser-Agent: holdconns\r\n\r\n")
	conns := make([]net.Conn, *n)
	var failed atomic.Int32
	var firstErr atomic.Value
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(*parallel, 1) {
		wg.Go(func() {
			for i := range next {
				c, err := open(*addr, req, *read, *rcvbuf)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				conns[i] = c
			}
		})
	}
	for i := range *n {
		next <- i
	}
	close(next)
	wg.Wait()
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "holdconns: %d of %d connections failed; first: %v\n", f, *n, firstErr.Load())
	}
	fmt.Printf("ready %d\n", *n-int(failed.Load()))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	fmt.Printf("open %d\n", stillOpen(conns))
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// open dials addr, sends req and, when read is set, reads the answer to
// its end, leaving the connection idle.
func open(addr string, req []byte, read bool, rcvbuf int) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if rcvbuf > 0 {
		// Before connect, so the window the kernel offers stays small.
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, err
	}
	if !read {
		c.SetDeadline(time.Time{})
		return c, nil
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || res.Close {
		c.Close()
		return nil, fmt.Errorf("GET: status %d, close %v, body error %v", res.StatusCode, res.Close, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// stillOpen counts the connections the server has not closed: a
// non-blocking peek finds bytes, or nothing yet (EAGAIN); 0 bytes or an
// error (a reset) means closed.
func stillOpen(conns []net.Conn) int {
	open := 0
	for _, c := range conns {
		if c == nil {
			continue
		}
		sc, ok := c.(syscall.Conn)
		if !ok {
			continue
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			continue
		}
		var b [1]byte
		var n int
		var errno error
		raw.Control(func(fd uintptr) {
			n, _, errno = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		})
		if n > 0 || errno == syscall.EAGAIN {
			open++
		}
	}
	return open
}
