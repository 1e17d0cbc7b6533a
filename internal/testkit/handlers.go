package testkit

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Gate holds requests until the test releases them, and tells the test when
// one has arrived, so tests synchronize on events rather than sleeps.
type Gate struct {
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

// NewGate returns a closed gate.
func NewGate() *Gate {
	return &Gate{arrived: make(chan struct{}, 64), release: make(chan struct{})}
}

// Wrap returns a handler that signals arrival, waits until Release (or the
// request is cancelled, in which case it returns without answering), then
// runs next (nil means Echo).
func (g *Gate) Wrap(next http.Handler) http.Handler {
	if next == nil {
		next = Echo()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.arrived <- struct{}{}
		select {
		case <-g.release:
			next.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}

// WaitArrived waits for one request to arrive at the gate.
func (g *Gate) WaitArrived(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-g.arrived:
	case <-time.After(timeout):
		t.Fatalf("no request arrived at the gate within %s", timeout)
	}
}

// Release lets every held and future request through.
func (g *Gate) Release() { g.once.Do(func() { close(g.release) }) }

// SSE streams two server-sent events: "event 1" at once, then "event 2"
// only after next is closed (or the client goes away).
func SSE(next <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		io.WriteString(w, "id: 1\ndata: event 1\n\n")
		if rc.Flush() != nil {
			return
		}
		select {
		case <-next:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "id: 2\ndata: event 2\n\n")
	})
}

// WebSocketEcho accepts a WebSocket and echoes every message, text or
// binary, of up to 1 MiB, until the peer closes.
func WebSocketEcho() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		ctx := r.Context()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
}

// HijackClose takes over the connection and closes it without answering,
// after reading the whole request body when readBody is set: a target that
// received the request and then died.
func HijackClose(readBody bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if readBody {
			body, _ := io.ReadAll(r.Body)
			RecordBody(r, body, nil)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
	})
}

// Garbage answers with bytes that are not an HTTP response.
func Garbage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		brw.WriteString("this is not HTTP at all\r\n\r\n")
		brw.Flush()
	})
}

// DieMidBody starts a 200 response, declaring a Content-Length of total
// bytes unless chunked is set, sends sent bytes of it and then aborts the
// connection.
func DieMidBody(total, sent int, chunked bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(total))
		}
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, sent))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	})
}

// Sized answers 200 with a body of n bytes of 'x'.
func Sized(n int) http.Handler {
	body := make([]byte, n)
	for i := range body {
		body[i] = 'x'
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(body)
	})
}

// Fixed answers with status, the given header pairs and body.
func Fixed(status int, body string, header ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Add(header[i], header[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

// RawResponse takes over the connection, writes resp exactly as given and
// closes it: for responses net/http would not produce.
func RawResponse(resp string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		fmt.Fprint(brw, resp)
		brw.Flush()
	})
}
