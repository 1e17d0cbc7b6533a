package server

import (
	"context"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// accept serves each QUIC connection until the listener closes.
func (h *h3) accept() {
	defer h.accepting.Done()
	for {
		c, err := h.ln.Accept(context.Background())
		if err != nil {
			return
		}
		h.serving.Add(1)
		go h.serveConn(c)
	}
}

// serveConn serves HTTP/3 on one connection with http3's raw connection
// API rather than http3.Server.Serve, so that every request stream gets a
// deadline for its header block: without one, a client that never
// finishes its HEADERS frame holds the stream (and a goroutine) for as
// long as it keeps the connection alive. The handler lifts the deadline
// once the headers are in.
func (h *h3) serveConn(c *quic.Conn) {
	defer h.serving.Done()
	raw, err := h.srv.NewRawServerConn(c)
	if err != nil {
		c.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeInternalError), "")
		return
	}
	go func() {
		for {
			s, err := c.AcceptUniStream(context.Background())
			if err != nil {
				return
			}
			go raw.HandleUnidirectionalStream(s)
		}
	}()
	var requests sync.WaitGroup
	for {
		s, err := c.AcceptStream(h.grace)
		if err != nil {
			break // the connection closed, or shutdown began
		}
		if d := time.Duration(h.headerTimeout.Load()); d > 0 {
			s.SetReadDeadline(time.Now().Add(d))
		}
		requests.Go(func() { raw.HandleRequestStream(s) })
	}
	if c.Context().Err() != nil {
		requests.Wait()
		return
	}
	h.drain(c, raw, &requests)
}

// drain lets the requests in flight on c finish, refusing new ones as
// H3_REQUEST_REJECTED (safe for the client to retry elsewhere), then
// closes c once their responses had time to leave. Past the forced
// deadline, c is closed at once.
func (h *h3) drain(c *quic.Conn, raw *http3.RawServerConn, requests *sync.WaitGroup) {
	go func() {
		for {
			s, err := c.AcceptStream(c.Context())
			if err != nil {
				return
			}
			s.CancelRead(quic.StreamErrorCode(http3.ErrCodeRequestRejected))
			s.CancelWrite(quic.StreamErrorCode(http3.ErrCodeRequestRejected))
		}
	}()
	done := make(chan struct{})
	go func() { requests.Wait(); close(done) }()
	select {
	case <-done:
		// The last responses may still be in the send buffers, and the
		// raw API offers no GOAWAY to let the client close when it has
		// them: give them a few round trips, unless the client leaves.
		linger := time.NewTimer(3*c.ConnectionStats().SmoothedRTT + 100*time.Millisecond)
		defer linger.Stop()
		select {
		case <-linger.C:
		case <-c.Context().Done():
		case <-h.force.Done():
		}
	case <-h.force.Done():
	}
	raw.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "shutting down")
	<-done
}
