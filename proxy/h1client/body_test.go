package h1client_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFullDuplex: the request body and the response stream at once: the
// target echoes what it reads, and each echo reaches the client before
// the upload ends.
func TestFullDuplex(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		buf := make([]byte, 64)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				w.Write(buf[:n])
				w.(http.Flusher).Flush()
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(echo.Close)
	addr := strings.TrimPrefix(echo.URL, "http://")
	f := newForwarder(t, testOpts())
	fr := newFront(t, f, targetAt(addr))

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", fr.URL+"/echo", pr)
	resc := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		res, err := fr.Client().Do(req)
		if err != nil {
			errc <- err
			return
		}
		resc <- res
	}()
	var res *http.Response
	var br *bufio.Reader
	for i, msg := range []string{"ping 1\n", "ping 2\n", "ping 3\n"} {
		if _, err := io.WriteString(pw, msg); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			select {
			case res = <-resc:
			case err := <-errc:
				t.Fatal(err)
			case <-time.After(5 * time.Second):
				t.Fatal("no response header while the upload goes on")
			}
			defer res.Body.Close()
			br = bufio.NewReader(res.Body)
		}
		got, err := br.ReadString('\n')
		if err != nil || got != msg {
			t.Fatalf("echo %q, %v; want %q before the upload ends", got, err, msg)
		}
	}
	pw.Close()
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the upload: %q, %v", rest, err)
	}
	if err := fr.result(t); err != nil {
		t.Errorf("Forward: %v", err)
	}
}

// TestEarlyAnswerWithoutReadingBody: a target that answers 413 without
// reading the body: the answer is relayed, and the connection, with the
// body half sent, is not reused.
func TestEarlyAnswerWithoutReadingBody(t *testing.T) {
	stop := make(chan struct{})
	b := newBackend(t, func(c *bconn) {
		r, err := c.readHead()
		if err != nil {
			return
		}
		if r.Method == "GET" {
			c.readBody(r)
			c.write(okResp)
			c.waitClose()
			return
		}
		c.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo big!")
		<-stop // keeps the connection, reading nothing more
	})
	t.Cleanup(func() { close(stop) })
	o := testOpts()
	// The sender can outlive the answer by SendTimeout (see
	// TestBugEarlyAnswerWaitsForClientBody); keep that short here.
	o.SendTimeout = time.Second
	f := newForwarder(t, o)
	const size = 64 << 20 // far more than the socket buffers hold
	_, res, body, err := forward(f, b, newOut("POST", "/up", io.LimitReader(endless{}, size), size))
	if err != nil || res.StatusCode != 413 || body != "too big!" {
		t.Fatalf("got %d %q, %v; want the 413 relayed", res.StatusCode, body, err)
	}
	mustGet(t, f, b, "/")
	if a := b.accepts.Load(); a != 2 {
		t.Errorf("%d connections, want 2: the one with half a body must not be reused", a)
	}
}

// TestClientBodyFails: a client body that fails mid-way ends the exchange
// with the client's error, not the target's.
func TestClientBodyFails(t *testing.T) {
	b := newBackend(t, func(c *bconn) {
		if _, err := c.readHead(); err == nil {
			c.waitClose()
		}
	})
	f := newForwarder(t, testOpts())
	broke := errors.New("client body broke")
	body := io.MultiReader(strings.NewReader("abc"), &failReader{err: broke})
	start := time.Now()
	_, _, _, err := forward(f, b, newOut("POST", "/", body, 10))
	if !errors.Is(err, broke) {
		t.Fatalf("error %v, want the client's body error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the answer was waited for", d)
	}
	b.waitPeerClosed(t, 1)
}

type failReader struct{ err error }

func (r *failReader) Read([]byte) (int, error) { return 0, r.err }

// touched is a body that records whether it was read.
type touched struct {
	r    io.Reader
	read atomic.Bool
}

func (b *touched) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

// TestExpectContinue: with Expect: 100-continue the body waits for the
// target's 100, is never sent after a final answer, and goes anyway when
// the target says nothing for a second.
func TestExpectContinue(t *testing.T) {
	t.Run("100 then the body", func(t *testing.T) {
		b := newBackend(t, func(c *bconn) {
			for {
				r, err := c.readHead()
				if err != nil {
					return
				}
				if r.Header.Get("Expect") != "100-continue" {
					c.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
					return
				}
				c.write("HTTP/1.1 100 Continue\r\n\r\n")
				if c.readBody(r) != nil {
					return
				}
				c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + string(r.body))
			}
		})
		f := newForwarder(t, testOpts())
		for range 2 {
			out := newOut("PUT", "/", strings.NewReader("hello"), 5)
			out.Header.Set("Expect", "100-continue")
			_, res, body, err := forward(f, b, out)
			if err != nil || res.StatusCode != 200 || body != "hello" {
				t.Fatalf("got %d %q, %v", res.StatusCode, body, err)
			}
		}
		if a := b.accepts.Load(); a != 1 {
			t.Errorf("%d connections, want 1", a)
		}
	})
	t.Run("final answer at once", func(t *testing.T) {
		bodyBytes := make(chan int64, 1)
		b := newBackend(t, func(c *bconn) {
			if c.n > 1 {
				answer(okResp)(c)
				return
			}
			if _, err := c.readHead(); err != nil {
				return
			}
			c.write("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope")
			n, _ := io.Copy(io.Discard, c.br) // until the forwarder hangs up
			bodyBytes <- n
		})
		f := newForwarder(t, testOpts())
		body := &touched{r: strings.NewReader("hello")}
		out := newOut("PUT", "/", body, 5)
		out.Header.Set("Expect", "100-continue")
		_, res, got, err := forward(f, b, out)
		if err != nil || res.StatusCode != 417 || got != "nope" {
			t.Fatalf("got %d %q, %v; want the 417 relayed", res.StatusCode, got, err)
		}
		select {
		case n := <-bodyBytes:
			if n != 0 {
				t.Errorf("the target got %d body bytes after its 417", n)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the connection was kept after a 417 to a body never sent")
		}
		if body.read.Load() {
			t.Error("the body was read")
		}
		mustGet(t, f, b, "/")
	})
	t.Run("silence, then the body anyway", func(t *testing.T) {
		waited := make(chan time.Duration, 1)
		b := newBackend(t, func(c *bconn) {
			r, err := c.readHead()
			if err != nil {
				return
			}
			start := time.Now()
			if c.readBody(r) != nil {
				return
			}
			waited <- time.Since(start)
			c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + string(r.body))
			c.waitClose()
		})
		f := newForwarder(t, testOpts())
		out := newOut("PUT", "/", strings.NewReader("hello"), 5)
		out.Header.Set("Expect", "100-continue")
		_, res, got, err := forward(f, b, out)
		if err != nil || res.StatusCode != 200 || got != "hello" {
			t.Fatalf("got %d %q, %v", res.StatusCode, got, err)
		}
		if d := <-waited; d < 900*time.Millisecond {
			t.Errorf("the body came %v after the head, before the second's wait for a 100", d)
		}
	})
}
