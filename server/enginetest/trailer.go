package enginetest

import (
	"io"
	"net/http"
	"slices"
	"testing"
)

// Trailers: the forwarder announces the client's declared trailers to the
// target before the body and sends their values (and any others) after
// it; it relays a target's trailers, announced or not, with the Trailer
// header and http.TrailerPrefix (gRPC's status lives there).
var trailerContracts = []contract{
	{"RequestTrailers/DeclaredKeysBeforeValuesAfterEOF", requestTrailersDeclared},
	{"RequestTrailers/UndeclaredAfterEOF", requestTrailersUndeclared},
	{"ResponseTrailers/DeclaredAndPrefixed", responseTrailers},
}

// trailerSeen is what a handler saw of r.Trailer before and after reading
// the body.
type trailerSeen struct {
	before   []string // keys
	body     string
	err      error
	after    http.Header
	declared bool // the key was present before the body was read
}

func trailerHandler(got chan<- trailerSeen, key string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s trailerSeen
		for k := range r.Trailer {
			s.before = append(s.before, k)
		}
		_, s.declared = r.Trailer[key]
		var b []byte
		b, s.err = io.ReadAll(r.Body)
		s.body = string(b)
		s.after = r.Trailer.Clone()
		got <- s
	})
}

// requestTrailersDeclared: the keys the Trailer header declares are in
// r.Trailer (with no value) before the body is read; the values are there
// once the body has reached EOF.
func requestTrailersDeclared(t *testing.T, start Start) {
	got := make(chan trailerSeen, 1)
	addr := start(t, trailerHandler(got, "X-Sum"))
	c := dial(t, addr)
	c.send("POST / HTTP/1.1\nHost: example.test\nTransfer-Encoding: chunked\nTrailer: X-Sum\n\n" +
		"5\nhello\n0\nX-Sum: abc\n\n")
	s := await(t, got, "the handler")
	c.response("POST")
	if s.err != nil || s.body != "hello" {
		t.Fatalf("body %q, %v; want hello", s.body, s.err)
	}
	if !s.declared || len(s.before) != 1 {
		t.Errorf("r.Trailer keys before the body: %q, want [X-Sum]", s.before)
	}
	if v := s.after.Get("X-Sum"); v != "abc" {
		t.Errorf("r.Trailer after EOF: %v, want X-Sum: abc", s.after)
	}
}

// requestTrailersUndeclared: trailer fields the client did not declare
// are in r.Trailer after EOF too.
func requestTrailersUndeclared(t *testing.T, start Start) {
	got := make(chan trailerSeen, 1)
	addr := start(t, trailerHandler(got, "X-Late"))
	c := dial(t, addr)
	c.send("POST / HTTP/1.1\nHost: example.test\nTransfer-Encoding: chunked\n\n" +
		"5\nhello\n0\nX-Late: 1\n\n")
	s := await(t, got, "the handler")
	c.response("POST")
	if s.err != nil || s.body != "hello" {
		t.Fatalf("body %q, %v; want hello", s.body, s.err)
	}
	if v := s.after.Get("X-Late"); v != "1" {
		t.Errorf("r.Trailer after EOF: %v, want X-Late: 1", s.after)
	}
}

// responseTrailers: a trailer declared in the Trailer header and set
// after the body, and one set with http.TrailerPrefix without being
// declared, both reach the client after a chunked body, and neither is in
// the header section.
func responseTrailers(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Declared")
		io.WriteString(w, "body")
		http.NewResponseController(w).Flush()
		w.Header().Set("X-Declared", "1")
		w.Header().Set(http.TrailerPrefix+"X-Undeclared", "2")
	}))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\nHost: example.test\n\n")
	res := c.head("GET")
	// ReadResponse moves the Trailer header's names into res.Trailer.
	if _, ok := res.Trailer["X-Declared"]; !ok || len(res.Trailer) != 1 {
		t.Errorf("trailers announced in the header: %v, want X-Declared only", res.Trailer)
	}
	b, err := io.ReadAll(res.Body)
	if body := string(b); err != nil || body != "body" || !slices.Equal(res.TransferEncoding, []string{"chunked"}) {
		t.Errorf("body %q (%v) framed %v, want \"body\" chunked", body, err, res.TransferEncoding)
	}
	if res.Header.Get("X-Declared") != "" || res.Header.Get("X-Undeclared") != "" {
		t.Errorf("trailer values in the header section: %v", res.Header)
	}
	if res.Trailer.Get("X-Declared") != "1" || res.Trailer.Get("X-Undeclared") != "2" {
		t.Errorf("trailers %v, want X-Declared: 1 and X-Undeclared: 2", res.Trailer)
	}
	// The connection goes on after the trailer section.
	c.send("GET / HTTP/1.1\nHost: example.test\n\n")
	if res, _ := c.response("GET"); res.StatusCode != 200 {
		t.Errorf("next request: status %d", res.StatusCode)
	}
}
