package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestPassthrough: what the backend answers reaches the client unchanged,
// errors included: the proxy only replaces answers it could not get.
func TestPassthrough(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("compressed body"))
	zw.Close()

	b := testkit.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		testkit.RecordBody(r, body, nil)
		switch r.URL.Path {
		case "/500":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(500)
			io.WriteString(w, `{"title":"backend broke"}`)
		case "/404":
			http.NotFound(w, r)
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.Header().Set("Etag", `"v1"`)
			w.WriteHeader(304)
		case "/redirect":
			http.Redirect(w, r, "http://internal.example:9000/login?next=%2F", http.StatusFound)
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "text/plain")
			w.Write(gz.Bytes())
		case "/cookies":
			w.Header().Add("Set-Cookie", "a=1; Path=/")
			w.Header().Add("Set-Cookie", "b=2; Path=/; HttpOnly")
			io.WriteString(w, "cookies")
		case "/head":
			w.Header().Set("Content-Length", "1234")
			w.Header().Set("X-Head", "yes")
		default:
			w.Header().Set("X-Method", r.Method)
			io.WriteString(w, r.Method+" "+string(body))
		}
	}))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	cases := []struct {
		method, path, body string
		header             []string
		status             int
		wantBody           string
		wantHeader         map[string]string
	}{
		{method: "GET", path: "/500", status: 500, wantBody: `{"title":"backend broke"}`,
			wantHeader: map[string]string{"Content-Type": "application/problem+json"}},
		{method: "GET", path: "/404", status: 404, wantBody: "404 page not found\n"},
		{method: "GET", path: "/204", status: 204},
		{method: "GET", path: "/304", status: 304, wantHeader: map[string]string{"Etag": `"v1"`}},
		{method: "GET", path: "/redirect", status: 302, wantBody: "<a href=\"http://internal.example:9000/login?next=%2F\">Found</a>.\n\n",
			wantHeader: map[string]string{"Location": "http://internal.example:9000/login?next=%2F"}},
		{method: "GET", path: "/gzip", header: []string{"Accept-Encoding", "gzip"}, status: 200, wantBody: gz.String(),
			wantHeader: map[string]string{"Content-Encoding": "gzip", "Content-Length": itoa(gz.Len())}},
		{method: "HEAD", path: "/head", status: 200, wantHeader: map[string]string{"Content-Length": "1234", "X-Head": "yes"}},
		{method: "DELETE", path: "/x", body: "why", status: 200, wantBody: "DELETE why"},
		{method: "PATCH", path: "/x", body: `{"a":1}`, status: 200, wantBody: `PATCH {"a":1}`},
		{method: "OPTIONS", path: "/x", status: 200, wantBody: "OPTIONS "},
		{method: "PURGE", path: "/x", status: 200, wantBody: "PURGE "},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			res, got := g.Do(g.NewRequest(tc.method, tc.path, body, tc.header...))
			if res.StatusCode != tc.status || got != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, got, tc.status, tc.wantBody)
			}
			for k, v := range tc.wantHeader {
				check(t, res.Header, k, v)
			}
		})
	}

	t.Run("cookies", func(t *testing.T) {
		res, _ := g.Get("/cookies")
		if got := res.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1; Path=/" || got[1] != "b=2; Path=/; HttpOnly" {
			t.Errorf("Set-Cookie %q", got)
		}
	})
	t.Run("nothing added", func(t *testing.T) {
		// net/http's transport would add Accept-Encoding and User-Agent.
		testkit.RoundTrip(t, g.Addr, "GET /plain HTTP/1.1\nHost: x\n\n")
		for _, k := range []string{"Accept-Encoding", "User-Agent"} {
			if v, ok := b.Last().Header[k]; ok {
				t.Errorf("backend got %s %q the client did not send", k, v)
			}
		}
		testkit.RoundTrip(t, g.Addr, "GET /plain HTTP/1.1\nHost: x\nUser-Agent: curl/8\n\n")
		check(t, b.Last().Header, "User-Agent", "curl/8")
	})
}
