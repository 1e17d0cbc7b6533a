package enginetest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Full duplex and upgrades: the proxy enables full duplex for every
// HTTP/1 request with a body, so a target may answer while the client
// still uploads, and takes over the connection with Hijack for a 101.
var duplexContracts = []contract{
	{"FullDuplex/EchoWhileUploading", fullDuplexEcho},
	{"FullDuplex/AnswerBeforeBodyEnds", fullDuplexEarlyAnswer},
	{"Hijack/SwitchingProtocolsThenRawBytesBothWays", hijackUpgrade},
}

// fullDuplexEcho: with EnableFullDuplex a handler reads the body while it
// writes the response, and the client reads each echo before it sends the
// next piece of its upload.
func fullDuplexEcho(t *testing.T, start Start) {
	errs := make(chan error, 2)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			errs <- err
			return
		}
		w.WriteHeader(http.StatusOK)
		rc.Flush()
		buf := make([]byte, 1024)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				w.Write(buf[:n])
				rc.Flush()
			}
			if err == io.EOF {
				errs <- nil
				return
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}))
	c := dial(t, addr)
	c.send("POST /echo HTTP/1.1\nHost: example.test\nTransfer-Encoding: chunked\n\n5\nping1\n")
	res := c.head("POST")
	if res.StatusCode != 200 {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	if got := c.readN(res.Body, 5, "the first echo before the upload went on"); got != "ping1" {
		t.Fatalf("first echo %q, want ping1", got)
	}
	c.send("5\nping2\n")
	if got := c.readN(res.Body, 5, "the second echo"); got != "ping2" {
		t.Fatalf("second echo %q, want ping2", got)
	}
	c.send("0\n\n")
	rest, err := io.ReadAll(res.Body)
	if err != nil || len(rest) != 0 {
		t.Errorf("end of the echo: %q, %v; want a clean end", rest, err)
	}
	if err := await(t, errs, "the handler"); err != nil {
		t.Fatalf("handler: %v", err)
	}
	// The exchange left the connection in a state to serve the next.
	c.send("GET /next HTTP/1.1\nHost: example.test\n\n")
	if res, _ := c.response("GET"); res.StatusCode != 200 {
		t.Errorf("next request on the connection: %d", res.StatusCode)
	}
}

// fullDuplexEarlyAnswer: a full-duplex handler may answer in full after
// reading part of the body, and then close the body before returning (as
// the proxy does); the client, having read the answer, sends the rest of
// its body. The connection then serves the next request, or is closed:
// the rest of the body is never read as a request.
func fullDuplexEarlyAnswer(t *testing.T, start Start) {
	paths := make(chan string, 4)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		if r.URL.Path != "/upload" {
			io.WriteString(w, "next")
			return
		}
		rc := http.NewResponseController(w)
		rc.EnableFullDuplex()
		io.ReadFull(r.Body, make([]byte, 4))
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "early")
		rc.Flush()
		// net/http's Close reads up to 256 KiB of what is left, looking
		// for the end of the body.
		r.Body.Close()
	}))
	c := dial(t, addr)
	c.send("POST /upload HTTP/1.1\nHost: example.test\nTransfer-Encoding: chunked\n\n4\nhead\n")
	res, body := c.response("POST")
	if res.StatusCode != http.StatusAccepted || body != "early" {
		t.Fatalf("got %d %q, want 202 \"early\"", res.StatusCode, body)
	}
	// The rest of the upload, shaped as a request, then a real one.
	rest := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(smuggled), smuggled)
	nextOrClosed(t, c, paths, "/upload", rest)
}

// nextOrClosed sends rest (what remains of the previous request's body,
// exactly) and a request for /next on c, and checks that the server either
// answers exactly /next or closes the connection unanswered: never does it
// read the rest as a request of its own. The handler answers /next with
// "next" and reports every path it sees to paths; first is the one it saw
// before.
func nextOrClosed(t *testing.T, c *raw, paths <-chan string, first, rest string) {
	t.Helper()
	if p := await(t, paths, "the first request to reach the handler"); p != first {
		t.Fatalf("handler saw %q first, want %q", p, first)
	}
	c.SetWriteDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c.Conn, rest+"GET /next HTTP/1.1\r\nHost: example.test\r\n\r\n"); err != nil {
		return // closed already
	}
	res, body, err := c.tryResponse("GET")
	if err != nil {
		if !isCut(err) {
			t.Errorf("reading the answer to the next request: %v", err)
		}
		return // closed: the rest was never read as a request
	}
	if res.StatusCode != 200 || body != "next" {
		t.Errorf("next request on the connection got %d %q, want 200 \"next\" or a closed connection", res.StatusCode, body)
	}
	select {
	case p := <-paths:
		if p != "/next" {
			t.Errorf("the handler was given %q, from bytes of the previous request's body", p)
		}
	default:
	}
}

// hijackUpgrade: Hijack hands the handler the connection with the bytes
// the client sent after the request still buffered; the handler writes
// its own 101 and then bytes flow both ways, with nothing from the engine
// in between.
func hijackUpgrade(t *testing.T, start Start) {
	errs := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			errs <- errors.New("no Upgrade: echo header")
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			errs <- err
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		if err := brw.Flush(); err != nil {
			errs <- err
			return
		}
		// Echo until the client half-closes, reading through brw so that
		// bytes the engine had buffered are not lost.
		_, err = io.Copy(conn, brw.Reader)
		errs <- err
	}))
	c := dial(t, addr)
	// The first tunnel bytes ride in the same write as the request.
	c.send("GET /ws HTTP/1.1\nHost: example.test\nConnection: Upgrade\nUpgrade: echo\n\nearly")
	res := c.head("GET")
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	if got := c.readN(c.r, 5, "the echo of bytes sent with the request"); got != "early" {
		t.Fatalf("echo %q, want \"early\"", got)
	}
	c.sendBytes("late!")
	if got := c.readN(c.r, 5, "the echo of bytes sent after the 101"); got != "late!" {
		t.Fatalf("echo %q, want \"late!\"", got)
	}
	c.closeWrite()
	if err := await(t, errs, "the hijacking handler to see the client's EOF"); err != nil {
		t.Fatalf("handler: %v", err)
	}
	c.expectClosed("after the tunnel ended")
}
