package compress

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
)

const patience = 10 * time.Second

// stream sends a GET accepting enc (identity when "") and returns the
// response and a decoder over its body.
func stream(t *testing.T, srv string, client *http.Client, enc string) (*http.Response, io.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv, nil)
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if got := resp.Header.Get("Content-Encoding"); got != enc {
		t.Fatalf("Content-Encoding %q, want %q", got, enc)
	}
	dec, err := decoder(enc, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, dec
}

// TestEventStream: each event reaches the client, compressed, before the
// handler writes the next one (it waits for the client to have it), with
// or without the handler's own Flush.
func TestEventStream(t *testing.T) {
	for _, flushes := range []bool{true, false} {
		for _, enc := range all {
			t.Run(fmt.Sprintf("%s/flush=%v", enc, flushes), func(t *testing.T) {
				next := make(chan struct{})
				srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Header().Set("Cache-Control", "no-cache")
					for i := range 3 {
						fmt.Fprintf(w, "id: %d\ndata: event %d\n\n", i, i)
						if flushes {
							http.NewResponseController(w).Flush()
						}
						select {
						case <-next:
						case <-r.Context().Done():
							return
						}
					}
				}))
				_, body := stream(t, srv.URL, srv.Client(), enc)
				events := bufio.NewReader(body)
				for i := range 3 {
					got := readEvent(t, events)
					if want := fmt.Sprintf("id: %d\ndata: event %d\n\n", i, i); got != want {
						t.Fatalf("event %d: %q, want %q", i, got, want)
					}
					next <- struct{}{}
				}
				if rest, err := io.ReadAll(events); err != nil || len(rest) != 0 {
					t.Errorf("after the events: %q, %v", rest, err)
				}
			})
		}
	}
}

// readEvent reads one server-sent event, failing the test when it does
// not come within patience.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var ev strings.Builder
		for {
			line, err := r.ReadString('\n')
			ev.WriteString(line)
			if err != nil || line == "\n" {
				got <- ev.String()
				return
			}
		}
	}()
	select {
	case ev := <-got:
		return ev
	case <-time.After(patience):
		t.Fatal("no event: it is held back")
		return ""
	}
}

// TestFlushEarly: a Flush before MinBytes sends the header and what was
// written at once, compressed (the length is unknown from then on).
func TestFlushEarly(t *testing.T) {
	body := jsonBody(8 << 10)
	for _, enc := range append([]string{""}, all...) {
		t.Run(cmpOr(enc, "identity"), func(t *testing.T) {
			next := make(chan struct{})
			srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", typeJSON)
				w.Write(body[:100])
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				select {
				case <-next:
				case <-r.Context().Done():
					return
				}
				w.Write(body[100:])
			}))
			_, dec := stream(t, srv.URL, srv.Client(), enc)
			first := make([]byte, 100)
			read := make(chan error, 1)
			go func() { _, err := io.ReadFull(dec, first); read <- err }()
			select {
			case err := <-read:
				if err != nil || !bytes.Equal(first, body[:100]) {
					t.Fatalf("first bytes %q, %v", first, err)
				}
			case <-time.After(patience):
				t.Fatal("the flushed bytes did not arrive")
			}
			close(next)
			rest, err := io.ReadAll(dec)
			if err != nil || !bytes.Equal(rest, body[100:]) {
				t.Fatalf("rest: %d bytes, %v", len(rest), err)
			}
		})
	}
}

// TestBigBody: a large body streams through the encoder: the client
// decodes the first MiB while the handler still waits to write the
// second half.
func TestBigBody(t *testing.T) {
	part := jsonBody(1 << 20)
	const parts = 4
	for _, enc := range all {
		t.Run(enc, func(t *testing.T) {
			half := make(chan struct{})
			srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", typeJSON)
				for i := range parts {
					if i == parts/2 {
						select {
						case <-half:
						case <-r.Context().Done():
							return
						}
					}
					for p := part; len(p) > 0; p = p[min(len(p), 32<<10):] {
						if _, err := w.Write(p[:min(len(p), 32<<10)]); err != nil {
							return
						}
					}
				}
			}))
			_, dec := stream(t, srv.URL, srv.Client(), enc)
			got := make([]byte, len(part))
			read := make(chan error, 1)
			go func() { _, err := io.ReadFull(dec, got); read <- err }()
			select {
			case err := <-read:
				if err != nil || !bytes.Equal(got, part) {
					t.Fatalf("first part: %v", err)
				}
			case <-time.After(patience):
				t.Fatal("nothing decodable arrived while the handler waits")
			}
			close(half)
			for i := 1; i < parts; i++ {
				if _, err := io.ReadFull(dec, got); err != nil || !bytes.Equal(got, part) {
					t.Fatalf("part %d: %v", i, err)
				}
			}
			if n, err := io.Copy(io.Discard, dec); n != 0 || err != nil {
				t.Fatalf("%d bytes too many, %v", n, err)
			}
		})
	}
}

// TestResponseController: deadlines set through the wrapper reach the
// connection; a write deadline in the past fails the writes.
func TestResponseController(t *testing.T) {
	errs := make(chan error, 4)
	srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.Header().Set("Content-Type", typeJSON)
		errs <- rc.SetReadDeadline(time.Now().Add(time.Minute))
		errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
		errs <- wrap.SetWriteDeadline(w, time.Now().Add(time.Minute))
		w.Write(jsonBody(2 << 10))
		errs <- rc.Flush()
	}))
	r := fetch(t, srv, "GET", "/", "Accept-Encoding", "gzip")
	if r.header.Get("Content-Encoding") != "gzip" || !bytes.Equal(r.decoded, jsonBody(2<<10)) {
		t.Fatalf("response %v", r.header)
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	failed := make(chan error, 1)
	late := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", typeJSON)
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
			failed <- err
			return
		}
		chunk := jsonBody(64 << 10)
		for range 64 {
			if _, err := w.Write(chunk); err != nil {
				failed <- err
				return
			}
		}
		failed <- http.NewResponseController(w).Flush()
	}))
	req, _ := http.NewRequest("GET", late.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if resp, err := late.Client().Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := <-failed; !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
		t.Errorf("writing past the deadline: %v, want a timeout", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestUpgrade: the 101 of a hijacked connection, announced as the proxy
// does (wrap.Finalize), gets no header of ours, and the connection is the
// handler's.
func TestUpgrade(t *testing.T) {
	hijackErr := make(chan error, 1)
	srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Connection", "Upgrade")
		h.Set("Upgrade", "echo")
		h.Set("Content-Type", "text/plain") // as if a target sent one
		wrap.Finalize(w, http.StatusSwitchingProtocols)
		if h.Get("Vary") != "" || h.Get("Content-Encoding") != "" {
			t.Errorf("101 header edited: %v", h)
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		hijackErr <- err
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrHijacked) {
			t.Errorf("Write after Hijack: %v", err)
		}
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString(line)
		brw.Flush()
	}))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(patience))
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\nAccept-Encoding: gzip\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if err := <-hijackErr; err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "ping\n")
	if line, err := br.ReadString('\n'); line != "ping\n" {
		t.Fatalf("echo %q, %v", line, err)
	}
}

// sink is a ResponseWriter that records whether ReadFrom reached it.
type sink struct {
	header    http.Header
	status    int
	body      bytes.Buffer
	readFroms int
}

func newSink() *sink { return &sink{header: http.Header{}} }

func (s *sink) Header() http.Header { return s.header }
func (s *sink) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *sink) Write(p []byte) (int, error) {
	s.WriteHeader(200)
	return s.body.Write(p)
}

func (s *sink) ReadFrom(r io.Reader) (int64, error) {
	s.WriteHeader(200)
	s.readFroms++
	return s.body.ReadFrom(r)
}

// TestReadFromPassesDown: a body not compressed still reaches the
// writer below through ReadFrom (sendfile), one compressed does not.
func TestReadFromPassesDown(t *testing.T) {
	body := jsonBody(16 << 10)
	mw, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("type"))
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		}
		w.(io.ReaderFrom).ReadFrom(bytes.NewReader(body))
	}))
	tests := []struct {
		target, ae string
		readFrom   bool
	}{
		{"/?type=application/json&length", "", true},
		{"/?type=application/json", "", true},
		{"/?type=image/png", "gzip", true},
		{"/?type=application/json&length", "gzip", false},
		{"/?type=application/json", "zstd", false},
	}
	for _, tc := range tests {
		s := newSink()
		req, _ := http.NewRequest("GET", tc.target, nil)
		if tc.ae != "" {
			req.Header.Set("Accept-Encoding", tc.ae)
		}
		h.ServeHTTP(s, req)
		if got := s.readFroms == 1; got != tc.readFrom {
			t.Errorf("%s %q: ReadFrom reached the writer %d times", tc.target, tc.ae, s.readFroms)
		}
		if got := decode(t, s.header.Get("Content-Encoding"), s.body.Bytes()); !bytes.Equal(got, body) {
			t.Errorf("%s %q: body differs", tc.target, tc.ae)
		}
	}
}

// TestConcurrent runs responses of every kind at once, so that a writer
// or an encoder shared by two of them shows (with -race, or as a body
// that does not decode).
func TestConcurrent(t *testing.T) {
	bodies := [][]byte{jsonBody(100), jsonBody(3 << 10), jsonBody(200 << 10)}
	srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := bodies[len(r.URL.Path)%len(bodies)]
		w.Header().Set("Content-Type", typeJSON)
		for len(b) > 0 {
			n := min(len(b), 7000)
			w.Write(b[:n])
			b = b[n:]
		}
	}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 12 {
				path := strings.Repeat("a", 1+(g+i)%3)
				enc := append([]string{""}, all...)[(g*7+i)%4]
				var hdr []string
				if enc != "" {
					hdr = []string{"Accept-Encoding", enc}
				}
				r := fetch(t, srv, "GET", "/"+path, hdr...)
				if want := bodies[(len(path)+1)%len(bodies)]; !bytes.Equal(r.decoded, want) {
					t.Errorf("%s %q: body differs", path, enc)
				}
			}
		})
	}
	wg.Wait()
}

// TestAbortedHandler: a handler that panics mid-body leaves nothing
// behind that spoils the next responses.
func TestAbortedHandler(t *testing.T) {
	body := jsonBody(64 << 10)
	srv := serve(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", typeJSON)
		w.Write(body[:32<<10])
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		w.Write(body[32<<10:])
	}))
	for range 3 {
		req, _ := http.NewRequest("GET", srv.URL+"/abort", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if resp, err := srv.Client().Do(req); err == nil {
			if _, err := io.ReadAll(resp.Body); err == nil {
				t.Error("an aborted response read to its end")
			}
			resp.Body.Close()
		}
		if r := fetch(t, srv, "GET", "/", "Accept-Encoding", "gzip"); !bytes.Equal(r.decoded, body) {
			t.Fatal("body differs after an aborted one")
		}
	}
}
