package acme

import (
	"errors"
	"net"
	"strconv"
	"time"
)

// placeholder holds a loopback port that certmagic is told its challenge
// servers use. certmagic starts its own HTTP-01 and TLS-ALPN-01 servers on
// that address unless something already listens there; Gatehouse answers
// challenges on its own listeners instead, so this listener is that
// something: it accepts and closes connections, and the only client is
// certmagic's check. Without it certmagic would bind ports 80 and 443
// itself (failing without privilege when Gatehouse listens elsewhere) and
// log to stderr when its servers stop.
type placeholder struct {
	ln   net.Listener
	done chan struct{}
}

func newPlaceholder() (*placeholder, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(placeholderHost, "0"))
	if err != nil {
		return nil, err
	}
	p := &placeholder{ln: ln, done: make(chan struct{})}
	go p.serve()
	return p, nil
}

const placeholderHost = "127.0.0.1"

func (p *placeholder) serve() {
	defer close(p.done)
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // out of descriptors, say
			continue
		}
		c.Close()
	}
}

func (p *placeholder) port() int {
	_, port, _ := net.SplitHostPort(p.ln.Addr().String())
	n, _ := strconv.Atoi(port)
	return n
}

func (p *placeholder) close() {
	p.ln.Close()
	<-p.done
}
