package enginetest

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// Deadlines: the deadline middleware and the proxy bound a slow client
// with http.ResponseController's deadlines, and map a body read that
// timed out to 408 by its net.Error's Timeout.
var deadlineContracts = []contract{
	{"ReadDeadline/StalledBodyTimesOut", readDeadlineStalls},
	{"ReadDeadline/ClearedDeadlineLetsSlowBodyThrough", readDeadlineCleared},
	{"WriteDeadline/ClientNotReadingTimesOut", writeDeadlineStalls},
	{"WriteDeadline/ClearedDeadlineLetsLateWriteThrough", writeDeadlineCleared},
}

// readDeadlineStalls: a read deadline makes the read of a body the client
// stopped sending fail with a timeout, well before the test's wait.
func readDeadlineStalls(t *testing.T, start Start) {
	type result struct {
		setErr, readErr error
		took            time.Duration
	}
	got := make(chan result, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		begin := time.Now()
		res.setErr = http.NewResponseController(w).SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if res.setErr == nil {
			_, res.readErr = io.ReadAll(r.Body)
		}
		res.took = time.Since(begin)
		got <- res
	}))
	c := dial(t, addr)
	c.send("POST / HTTP/1.1\nHost: example.test\nContent-Length: 100\n\nonly-part-of-it")
	res := await(t, got, "the handler's stalled body read to end")
	if res.setErr != nil {
		t.Fatalf("SetReadDeadline: %v", res.setErr)
	}
	if !isTimeout(res.readErr) {
		t.Errorf("stalled body read after the deadline: error %v, want a timeout (net.Error with Timeout() true)", res.readErr)
	}
	if res.took > wait/2 {
		t.Errorf("stalled body read took %s with a 100ms deadline", res.took)
	}
}

// readDeadlineCleared: a deadline set and then cleared (the zero time)
// no longer applies: a body arriving after it would have passed is read.
func readDeadlineCleared(t *testing.T, start Start) {
	cleared := make(chan error, 1)
	read := make(chan string, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		err := rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if err == nil {
			err = rc.SetReadDeadline(time.Time{})
		}
		cleared <- err
		b, err := io.ReadAll(r.Body)
		if err != nil {
			read <- "error: " + err.Error()
			return
		}
		read <- string(b)
	}))
	c := dial(t, addr)
	c.send("POST / HTTP/1.1\nHost: example.test\nContent-Length: 4\n\n")
	if err := await(t, cleared, "the handler to set and clear its read deadline"); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // past the cleared deadline
	c.sendBytes("late")
	if got := await(t, read, "the handler's body read"); got != "late" {
		t.Errorf("body read after a cleared deadline: %q, want \"late\"", got)
	}
}

// writeDeadlineStalls: a write deadline makes writing to a client that
// stopped reading fail once the socket's buffers are full, instead of
// blocking for good.
func writeDeadlineStalls(t *testing.T, start Start) {
	type result struct {
		setErr, writeErr error
		written          int64
	}
	got := make(chan result, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		res.setErr = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		buf := make([]byte, 64<<10)
		for res.setErr == nil && res.written < 1<<30 && res.writeErr == nil {
			var n int
			n, res.writeErr = w.Write(buf)
			res.written += int64(n)
		}
		got <- res
	}))
	c := dial(t, addr)
	c.Conn.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4 << 10)
	c.send("GET /big HTTP/1.1\nHost: example.test\n\n")
	// The client never reads.
	res := await(t, got, "the handler's writes to a client that does not read to fail")
	if res.setErr != nil {
		t.Fatalf("SetWriteDeadline: %v", res.setErr)
	}
	if res.writeErr == nil {
		t.Fatalf("wrote %d bytes to a client that reads nothing without an error", res.written)
	}
	if !isTimeout(res.writeErr) {
		t.Errorf("write past the deadline: error %v, want a timeout (net.Error with Timeout() true)", res.writeErr)
	}
}

// writeDeadlineCleared: a write deadline set and then cleared no longer
// applies: a write after it would have passed goes out.
func writeDeadlineCleared(t *testing.T, start Start) {
	errs := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		err := rc.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		if err == nil {
			time.Sleep(150 * time.Millisecond) // past the deadline
			err = rc.SetWriteDeadline(time.Time{})
		}
		if err == nil {
			_, err = io.WriteString(w, "late")
		}
		if err == nil {
			err = rc.Flush()
		}
		errs <- err
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\n\n")
	res, body := c.response("GET")
	if err := await(t, errs, "the handler"); err != nil {
		t.Errorf("handler: %v", err)
	}
	if res.StatusCode != 200 || body != "late" {
		t.Errorf("got %d %q, want 200 \"late\"", res.StatusCode, body)
	}
}
