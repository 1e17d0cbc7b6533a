package enginetest

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Aborts and unread bodies: the error funnel panics with
// http.ErrAbortHandler after a partial response so that the client cannot
// take a truncated body for a whole one, and the body limit middleware
// wraps bodies in http.MaxBytesReader.
var abortContracts = []contract{
	{"Abort/BeforeHeaderSendsNothing", abortBeforeHeader},
	{"Abort/AfterChunkedHeaderTruncates", abortAfterHeaderChunked},
	{"Abort/AfterContentLengthHeaderTruncates", abortAfterHeaderLength},
	{"MaxBytesReader/ErrorThenConnectionClosed", maxBytesReader},
	{"MaxBytesReader/WrappedWriterRestNeverARequest", maxBytesReaderWrapped},
	{"UnreadBody/NeverReadAsNextRequest", unreadBody},
}

// abortBeforeHeader: a handler that panics with http.ErrAbortHandler
// before anything was flushed makes the engine close the connection with
// no response at all, not even the part the handler had buffered.
func abortBeforeHeader(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "buffered, never sent")
		panic(http.ErrAbortHandler)
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\n\n")
	c.expectClosed("a handler aborted before its header was sent")
}

// abortAfterHeaderChunked: an abort after a chunked response's header and
// some body went out ends the connection without the last chunk, so the
// client sees the body break off.
func abortAfterHeaderChunked(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\n\n")
	res, body, err := c.tryResponse("GET")
	if res == nil {
		t.Fatalf("no response header although the handler flushed it: %v", err)
	}
	if len(res.TransferEncoding) == 0 || res.TransferEncoding[0] != "chunked" {
		t.Errorf("response without a length is %v, want chunked", res.TransferEncoding)
	}
	if err == nil {
		t.Errorf("the aborted response read as complete (%q): want the body to break off", body)
	}
	if body != "partial" {
		t.Errorf("body before the abort %q, want \"partial\"", body)
	}
}

// abortAfterHeaderLength: the same with a declared Content-Length: the
// connection closes short of it.
func abortAfterHeaderLength(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\n\n")
	res, body, err := c.tryResponse("GET")
	if res == nil {
		t.Fatalf("no response header although the handler flushed it: %v", err)
	}
	if res.ContentLength != 100 {
		t.Errorf("Content-Length %d, want the handler's 100", res.ContentLength)
	}
	if err == nil {
		t.Errorf("the aborted response read as complete (%q): want it cut short of its length", body)
	}
}

// maxBytesReader: reading past http.MaxBytesReader's limit returns
// *http.MaxBytesError, and the engine closes the connection after the
// handler's answer, so that the unread rest of the body (here shaped as a
// request) is never parsed as the next request.
//
// net/http learns of the limit through an unexported method of its own
// ResponseWriter (requestTooLarge), which MaxBytesReader calls when given
// that writer itself; an engine outside net/http cannot have it, so to
// pass it must close a connection whose handler returned with the body
// unread.
func maxBytesReader(t *testing.T, start Start) {
	type result struct {
		path string
		err  error
	}
	got := make(chan result, 4)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 10)
		_, err := io.ReadAll(r.Body)
		got <- result{r.URL.Path, err}
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	c := dial(t, addr)
	body := "0123456789" + smuggled
	c.sendBytes("POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	res := await(t, got, "the handler's body read")
	var mb *http.MaxBytesError
	if !errors.As(res.err, &mb) || mb.Limit != 10 {
		t.Errorf("reading past the limit: %v (%T), want *http.MaxBytesError with Limit 10", res.err, res.err)
	}
	if r, _ := c.response("POST"); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want the handler's 413", r.StatusCode)
	}
	c.expectClosed("after a body over the MaxBytesReader limit")
	select {
	case r := <-got:
		t.Errorf("the handler was given %q, from the unread body", r.path)
	case <-time.After(10 * time.Millisecond):
	}
}

// maxBytesReaderWrapped is maxBytesReader as Gatehouse's body limit
// runs: given a writer wrapped by the middleware above it, so that
// net/http never hears of the limit. The engine then either closes the
// connection or discards exactly the rest of the body; either way the
// rest is never a request.
func maxBytesReaderWrapped(t *testing.T, start Start) {
	paths := make(chan string, 4)
	errs := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		if r.URL.Path == "/next" {
			io.WriteString(w, "next")
			return
		}
		r.Body = http.MaxBytesReader(wrapped{w}, r.Body, 10)
		_, err := io.ReadAll(r.Body)
		errs <- err
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	c := dial(t, addr)
	body := "0123456789" + smuggled
	c.sendBytes("POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	var mb *http.MaxBytesError
	if err := await(t, errs, "the handler's body read"); !errors.As(err, &mb) {
		t.Errorf("reading past the limit: %v (%T), want *http.MaxBytesError", err, err)
	}
	if r, _ := c.response("POST"); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want the handler's 413", r.StatusCode)
	}
	nextOrClosed(t, c, paths, "/upload", "")
}

// wrapped is a ResponseWriter as middleware wraps it.
type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unreadBody: a handler that answers without reading the body leaves the
// connection serving the next request (the engine discarded the body) or
// closed; the body's bytes are never read as a request.
func unreadBody(t *testing.T, start Start) {
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
	body := smuggled
	c.sendBytes("POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	if res, _ := c.response("POST"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want the handler's 403", res.StatusCode)
	}
	nextOrClosed(t, c, paths, "/upload", "")
}
