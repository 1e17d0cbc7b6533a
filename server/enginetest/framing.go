package enginetest

import (
	"io"
	"net/http"
	"slices"
	"testing"
)

// Framing and connection reuse: streamed responses (server-sent events,
// gRPC-Web, long polls) rely on Flush; the rules for when a connection
// stays open decide whether a client's next request is safe on it.
var framingContracts = []contract{
	{"Flush/SendsAtOnceChunked", flushChunked},
	{"Flush/HTTP10CloseDelimited", flushHTTP10},
	{"Pipelining/AnsweredInOrder", pipelining},
	{"ConnectionClose/RequestClosesAfterAnswer", connectionCloseRequest},
	{"ConnectionClose/HandlerClosesAfterAnswer", connectionCloseHandler},
	{"HTTP10/ClosesWithoutKeepAlive", http10Close},
	{"HTTP10/KeepAliveStaysOpen", http10KeepAlive},
	{"HEAD/NoBody", headNoBody},
}

// flushChunked: Flush puts what the handler wrote on the wire before the
// handler goes on; a response without a length is chunked.
func flushChunked(t *testing.T, start Start) {
	release := make(chan struct{})
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		http.NewResponseController(w).Flush()
		if hold(r, release) {
			io.WriteString(w, "second")
		}
	}))
	c := dial(t, addr)
	c.send("GET /stream HTTP/1.1\nHost: example.test\n\n")
	res := c.head("GET")
	if !slices.Equal(res.TransferEncoding, []string{"chunked"}) || res.ContentLength != -1 {
		t.Errorf("framing %v, length %d; want chunked", res.TransferEncoding, res.ContentLength)
	}
	if got := c.readN(res.Body, 5, "the flushed part while the handler waits"); got != "first" {
		t.Fatalf("flushed part %q, want \"first\"", got)
	}
	close(release)
	rest, err := io.ReadAll(res.Body)
	if err != nil || string(rest) != "second" {
		t.Errorf("rest %q, %v; want \"second\"", rest, err)
	}
}

// flushHTTP10: an HTTP/1.0 client cannot read chunks: a response without
// a length is sent as is and ended by closing the connection.
func flushHTTP10(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		http.NewResponseController(w).Flush()
		io.WriteString(w, "second")
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.0\n\n")
	res, body := c.response("GET")
	if len(res.TransferEncoding) != 0 || body != "firstsecond" {
		t.Errorf("HTTP/1.0 response framed %v with body %q, want unframed \"firstsecond\"", res.TransferEncoding, body)
	}
	c.expectClosed("after a close-delimited body")
}

// pipelining: requests sent back to back in one write, before any
// answer, are answered in order, their bodies framed by length and by
// chunks.
func pipelining(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.URL.Path+" "+string(b))
	}))
	c := dial(t, addr)
	c.send("GET /1 HTTP/1.1\nHost: example.test\n\n" +
		"POST /2 HTTP/1.1\nHost: example.test\nContent-Length: 3\n\nabc" +
		"POST /3 HTTP/1.1\nHost: example.test\nTransfer-Encoding: chunked\n\n2\nde\n0\n\n" +
		"GET /4 HTTP/1.1\nHost: example.test\n\n")
	for i, want := range []string{"/1 ", "/2 abc", "/3 de", "/4 "} {
		method := "GET"
		if i == 1 || i == 2 {
			method = "POST"
		}
		if res, body := c.response(method); res.StatusCode != 200 || body != want {
			t.Fatalf("response %d: %d %q, want 200 %q", i+1, res.StatusCode, body, want)
		}
	}
}

// connectionCloseRequest: "Connection: close" from the client gets an
// answer saying so, then the connection closes.
func connectionCloseRequest(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "bye")
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\nConnection: close\n\n")
	res, body := c.response("GET")
	if !res.Close || body != "bye" {
		t.Errorf("answer %q with Connection %q, want \"bye\" with close", body, res.Header.Get("Connection"))
	}
	c.expectClosed("after Connection: close")
}

// connectionCloseHandler: a handler that sets "Connection: close" (the
// server does when it is shutting down) gets it sent, and the connection
// closes after the answer.
func connectionCloseHandler(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\n\n")
	res, body := c.response("GET")
	if !res.Close || body != "bye" {
		t.Errorf("answer %q with Connection %q, want \"bye\" with close", body, res.Header.Get("Connection"))
	}
	c.expectClosed("after a handler's Connection: close")
}

// http10Close: an HTTP/1.0 request without keep-alive is the last on its
// connection.
func http10Close(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "old")
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.0\nHost: example.test\n\n")
	if res, body := c.response("GET"); res.StatusCode != 200 || body != "old" {
		t.Errorf("got %d %q, want 200 \"old\"", res.StatusCode, body)
	}
	c.expectClosed("after an HTTP/1.0 request without keep-alive")
}

// http10KeepAlive: an HTTP/1.0 request with "Connection: keep-alive" gets
// a length-framed answer that says keep-alive, and the connection serves
// the next request.
func http10KeepAlive(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	c := dial(t, addr)
	for _, p := range []string{"/1", "/2"} {
		c.send("GET " + p + " HTTP/1.0\nHost: example.test\nConnection: keep-alive\n\n")
		res, body := c.response("GET")
		if res.StatusCode != 200 || body != p {
			t.Fatalf("%s: got %d %q", p, res.StatusCode, body)
		}
		if res.Close || res.ContentLength != int64(len(p)) || res.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("%s: Connection %q, length %d; want keep-alive with a length", p, res.Header.Get("Connection"), res.ContentLength)
		}
	}
}

// headNoBody: the answer to HEAD has no body even when the handler writes
// one: the next response on the connection starts right after its header.
func headNoBody(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	c := dial(t, addr)
	c.send("HEAD / HTTP/1.1\nHost: example.test\n\nGET / HTTP/1.1\nHost: example.test\n\n")
	if res, body := c.response("HEAD"); res.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD: %d %q", res.StatusCode, body)
	}
	if res, body := c.response("GET"); res.StatusCode != 200 || body != "hello" {
		t.Errorf("GET after HEAD: %d %q, want 200 hello", res.StatusCode, body)
	}
}
