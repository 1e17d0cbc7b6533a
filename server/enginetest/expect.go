package enginetest

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Expect: 100-continue: a client that waits for 100 before uploading
// must get it only when the handler asks for the body, so a request the
// proxy refuses (auth, size, no route) costs no upload.
var continueContracts = []contract{
	{"ExpectContinue/SentWhenHandlerReads", continueOnRead},
	{"ExpectContinue/NotSentWhenHandlerAnswersUnread", continueNotSent},
}

// continueOnRead: no 100 while the handler has not touched the body; the
// first read sends it, the client then uploads and gets the final answer.
func continueOnRead(t *testing.T, start Start) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		if !hold(r, release) {
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	c := dial(t, addr)
	c.send("POST / HTTP/1.1\nHost: example.test\nExpect: 100-continue\nContent-Length: 5\n\n")
	await(t, arrived, "the request to reach the handler")
	// Nothing may arrive before the handler reads. A correct engine sends
	// nothing at all, so this short window can only miss a wrong one,
	// never fail a right one.
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if b, err := c.r.Peek(1); err == nil {
		t.Fatalf("the engine sent %q before the handler read the body", b)
	} else if !isTimeout(err) {
		t.Fatalf("waiting for nothing: %v", err)
	}
	close(release)
	if res := c.head("POST"); res.StatusCode != http.StatusContinue {
		t.Fatalf("first response %d, want 100 once the handler reads", res.StatusCode)
	}
	c.sendBytes("hello")
	if res, body := c.response("POST"); res.StatusCode != 200 || body != "hello" {
		t.Errorf("final response %d %q, want 200 hello", res.StatusCode, body)
	}
}

// continueNotSent: a handler that answers without reading the body sends
// its answer with no 100 before it. The client may then send its body
// anyway: the engine either closes the connection or discards exactly
// that body, and serves the next request.
func continueNotSent(t *testing.T, start Start) {
	paths := make(chan string, 4)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		if r.URL.Path == "/next" {
			io.WriteString(w, "next")
			return
		}
		w.WriteHeader(http.StatusForbidden)
	}))
	c := dial(t, addr)
	c.send("POST /upload HTTP/1.1\nHost: example.test\nExpect: 100-continue\nContent-Length: " + strconv.Itoa(len(smuggled)) + "\n\n")
	if res, _ := c.response("POST"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("first response %d, want the handler's 403 with no 100 before it", res.StatusCode)
	}
	nextOrClosed(t, c, paths, "/upload", smuggled)
}
