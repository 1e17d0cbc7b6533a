package cors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// backend answers like an upstream with a CORS policy of its own (wider
// than the route's), and counts the requests reaching it.
type backend struct{ calls int }

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.calls++
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "GET, PUT, DELETE")
	h.Set("Access-Control-Expose-Headers", "X-Secret")
	h["access-control-max-age"] = []string{"86400"} // not canonical
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Backend", "yes")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("body"))
}

func mustNew(t testing.TB, o Options, next http.Handler) http.Handler {
	t.Helper()
	mw, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return mw(next)
}

// corsHeaders is every Access-Control-* header and Vary of a response,
// one string each, for comparing whole sets.
func corsHeaders(h http.Header) map[string]string {
	got := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-") || k == "Vary" {
			got[http.CanonicalHeaderKey(k)] = strings.Join(v, " | ")
		}
	}
	return got
}

func diff(got, want map[string]string) string {
	var d []string
	for k, v := range want {
		if got[k] != v {
			d = append(d, fmt.Sprintf("%s: %q, want %q", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s: %q, want none", k, v))
		}
	}
	slices.Sort(d)
	return strings.Join(d, "; ")
}

const preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"

func preflight(origin, method, headers string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/items", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	r.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		r.Header.Set("Access-Control-Request-Headers", headers)
	}
	return r
}

// TestPreflightMatrix: origin × method × headers × credentials. Only a
// preflight asking for nothing disallowed gets the Allow headers; every
// preflight is answered 204 here, with the preflight Vary, and none
// reaches the backend.
func TestPreflightMatrix(t *testing.T) {
	for _, creds := range []bool{false, true} {
		b := &backend{}
		h := mustNew(t, Options{
			AllowOrigins:     []string{"https://app.example.com", "https://*.example.net"},
			AllowMethods:     []string{"GET", "PUT", "delete"},
			AllowHeaders:     []string{"Content-Type", "X-Request-Id"},
			ExposeHeaders:    []string{"X-Total"},
			AllowCredentials: creds,
			MaxAge:           10 * time.Minute,
		}, b)
		for _, origin := range []struct {
			v  string
			ok bool
		}{{"https://app.example.com", true}, {"https://a.b.example.net", true}, {"https://evil.example.com", false}, {"null", false}} {
			for _, method := range []struct {
				v  string
				ok bool
			}{{"PUT", true}, {"DELETE", true}, {"PATCH", false}, {"put", false}} {
				for _, headers := range []struct {
					v  string
					ok bool
				}{{"", true}, {"content-type,x-request-id", true}, {"X-Request-ID , Content-Type", true}, {"content-type,x-secret", false}, {"authorization", false}} {
					name := fmt.Sprintf("creds=%v/%s/%s/%q", creds, origin.v, method.v, headers.v)
					t.Run(name, func(t *testing.T) {
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, preflight(origin.v, method.v, headers.v))
						want := map[string]string{"Vary": preflightVary}
						if origin.ok && method.ok && headers.ok {
							want["Access-Control-Allow-Origin"] = origin.v
							want["Access-Control-Allow-Methods"] = "GET, PUT, DELETE"
							want["Access-Control-Allow-Headers"] = "Content-Type, X-Request-Id"
							want["Access-Control-Max-Age"] = "600"
							if creds {
								want["Access-Control-Allow-Credentials"] = "true"
							}
						}
						if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
							t.Errorf("status %d, body %q; want 204 and none", rec.Code, rec.Body)
						}
						if d := diff(corsHeaders(rec.Header()), want); d != "" {
							t.Error(d)
						}
					})
				}
			}
		}
		if b.calls != 0 {
			t.Errorf("%d preflights reached the backend", b.calls)
		}
	}
}

// TestPreflightWildcards: "*" origins, methods and headers, the default
// methods, private network access, Max-Age edges, odd requests.
func TestPreflightWildcards(t *testing.T) {
	pf := func(mod func(r *http.Request)) *http.Request {
		r := preflight("https://app.example.com", "PATCH", "x-one, X-Two")
		if mod != nil {
			mod(r)
		}
		return r
	}
	allowed := func(extra map[string]string) map[string]string {
		m := map[string]string{"Vary": preflightVary}
		for k, v := range extra {
			if v != "" {
				m[k] = v
			}
		}
		return m
	}
	star := Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}, ExposeHeaders: []string{"*"}}
	for _, tc := range []struct {
		name string
		o    Options
		r    *http.Request
		want map[string]string
	}{
		{"all wildcards", star, pf(nil), allowed(map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-one, X-Two"})},
		{"wildcards, null origin", star, pf(func(r *http.Request) { r.Header.Set("Origin", "null") }), allowed(map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-one, X-Two"})},
		{"wildcards, no headers asked", star, pf(func(r *http.Request) { r.Header.Del("Access-Control-Request-Headers") }), allowed(map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH"})},
		{"wildcards, method not a token", star, pf(func(r *http.Request) { r.Header.Set("Access-Control-Request-Method", "GET POST") }), allowed(nil)},
		{"default methods refuse PATCH", Options{AllowOrigins: []string{"*"}, AllowHeaders: []string{"*"}}, pf(nil), allowed(nil)},
		{"default methods allow POST", Options{AllowOrigins: []string{"https://app.example.com"}, AllowHeaders: []string{"X-One", "x-two"}},
			pf(func(r *http.Request) { r.Header.Set("Access-Control-Request-Method", "POST") }), allowed(map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET, HEAD, POST", "Access-Control-Allow-Headers": "X-One, x-two"})},
		{"no headers allowed, none asked", Options{AllowOrigins: []string{"https://app.example.com"}},
			pf(func(r *http.Request) {
				r.Header.Set("Access-Control-Request-Method", "GET")
				r.Header.Del("Access-Control-Request-Headers")
			}),
			allowed(map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET, HEAD, POST"})},
		{"header lines combined", Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"PATCH"}, AllowHeaders: []string{"x-one", "x-two"}},
			pf(func(r *http.Request) { r.Header["Access-Control-Request-Headers"] = []string{"x-one", ",x-two,"} }), allowed(map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-one, x-two"})},
		{"a second header line disallowed", Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"PATCH"}, AllowHeaders: []string{"x-one", "x-two"}},
			pf(func(r *http.Request) { r.Header["Access-Control-Request-Headers"] = []string{"x-one", "x-three"} }), allowed(nil)},
		{"two Origin values", star, pf(func(r *http.Request) { r.Header.Add("Origin", "https://b.example.com") }), allowed(nil)},
		{"two methods", star, pf(func(r *http.Request) { r.Header.Add("Access-Control-Request-Method", "PUT") }), allowed(nil)},
		{"private network allowed", Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"PATCH"}, AllowHeaders: []string{"*"}, AllowPrivateNetwork: true},
			pf(func(r *http.Request) { r.Header.Set("Access-Control-Request-Private-Network", "true") }), allowed(map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-one, X-Two",
				"Access-Control-Allow-Private-Network": "true"})},
		{"private network allowed, not asked", Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"PATCH"}, AllowHeaders: []string{"*"}, AllowPrivateNetwork: true},
			pf(nil), allowed(map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-one, X-Two"})},
		{"private network not allowed", Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"PATCH"}, AllowHeaders: []string{"*"}},
			pf(func(r *http.Request) { r.Header.Set("Access-Control-Request-Private-Network", "true") }), allowed(nil)},
		{"max age rounded up", Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"PATCH"}, AllowHeaders: []string{"*"}, MaxAge: 1500 * time.Millisecond},
			pf(nil), allowed(map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-one, X-Two", "Access-Control-Max-Age": "2"})},
		{"negative max age", Options{AllowOrigins: []string{"*"}, AllowMethods: []string{"PATCH"}, AllowHeaders: []string{"*"}, MaxAge: -1},
			pf(nil), allowed(map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-one, X-Two", "Access-Control-Max-Age": "0"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{}
			rec := httptest.NewRecorder()
			mustNew(t, tc.o, b).ServeHTTP(rec, tc.r)
			if rec.Code != http.StatusNoContent || b.calls != 0 {
				t.Errorf("status %d, backend reached %d times; want 204 and never", rec.Code, b.calls)
			}
			if d := diff(corsHeaders(rec.Header()), tc.want); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestNotPreflight: an OPTIONS request without
// Access-Control-Request-Method, or without Origin, is an ordinary
// request and reaches the backend.
func TestNotPreflight(t *testing.T) {
	b := &backend{}
	h := mustNew(t, Options{AllowOrigins: []string{"https://app.example.com"}}, b)
	for _, tc := range []struct {
		name string
		r    *http.Request
		want map[string]string
	}{
		{"options with origin", func() *http.Request {
			r := preflight("https://app.example.com", "", "")
			r.Header.Del("Access-Control-Request-Method")
			return r
		}(), map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Accept-Encoding | Origin"}},
		{"options without origin", preflight("", "PUT", ""), map[string]string{"Vary": "Accept-Encoding | Origin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.calls
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tc.r)
			if b.calls != before+1 || rec.Code != 200 || rec.Header().Get("X-Backend") != "yes" {
				t.Errorf("status %d, backend calls %d; want the backend's answer", rec.Code, b.calls-before)
			}
			if d := diff(corsHeaders(rec.Header()), tc.want); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestActualRequests: the backend's own CORS headers never survive; an
// allowed origin gets the route's, a disallowed one or none gets none;
// Vary: Origin unless the origins are "*".
func TestActualRequests(t *testing.T) {
	named := Options{
		AllowOrigins:  []string{"https://app.example.com", "https://*.example.net", `~^https://[a-z]+\.example\.io$`},
		ExposeHeaders: []string{"X-Total", "X-Page"},
	}
	creds := named
	creds.AllowCredentials = true
	star := Options{AllowOrigins: []string{"*"}, ExposeHeaders: []string{"X-Total"}}
	vary := "Accept-Encoding | Origin"
	allowed := func(origin string, credentials bool) map[string]string {
		m := map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "X-Total, X-Page", "Vary": vary}
		if credentials {
			m["Access-Control-Allow-Credentials"] = "true"
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		o      Options
		method string
		origin []string
		want   map[string]string
	}{
		{"exact", named, "GET", []string{"https://app.example.com"}, allowed("https://app.example.com", false)},
		{"exact, case and default port", named, "GET", []string{"HTTPS://App.Example.com:443"}, allowed("HTTPS://App.Example.com:443", false)},
		{"wildcard", named, "POST", []string{"https://a.b.example.net"}, allowed("https://a.b.example.net", false)},
		{"regexp", named, "DELETE", []string{"https://abc.example.io"}, allowed("https://abc.example.io", false)},
		{"credentials", creds, "GET", []string{"https://app.example.com"}, allowed("https://app.example.com", true)},
		{"disallowed", creds, "GET", []string{"https://evil.example.com"}, map[string]string{"Vary": vary}},
		{"wildcard parent", named, "GET", []string{"https://example.net"}, map[string]string{"Vary": vary}},
		{"null", named, "GET", []string{"null"}, map[string]string{"Vary": vary}},
		{"two origins", named, "GET", []string{"https://app.example.com", "https://app.example.com"}, map[string]string{"Vary": vary}},
		{"no origin", creds, "GET", nil, map[string]string{"Vary": vary}},
		{"star", star, "GET", []string{"https://anyone.example"}, map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Total", "Vary": "Accept-Encoding"}},
		{"star, no origin", star, "GET", nil, map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Total", "Vary": "Accept-Encoding"}},
		{"star, malformed origin", star, "GET", []string{"not an origin"}, map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Total", "Vary": "Accept-Encoding"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{}
			r := httptest.NewRequest(tc.method, "http://api.example.com/items", nil)
			r.Header["Origin"] = tc.origin
			rec := httptest.NewRecorder()
			mustNew(t, tc.o, b).ServeHTTP(rec, r)
			if b.calls != 1 || rec.Code != 200 || rec.Body.String() != "body" || rec.Header().Get("X-Backend") != "yes" {
				t.Errorf("status %d, body %q, backend calls %d; want the backend's answer", rec.Code, rec.Body, b.calls)
			}
			if d := diff(corsHeaders(rec.Header()), tc.want); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestVary: Vary: Origin is added once, next to what the response has,
// and not at all to Vary: *.
func TestVary(t *testing.T) {
	for _, tc := range []struct {
		have []string
		want string
	}{
		{nil, "Origin"},
		{[]string{"Accept-Encoding"}, "Accept-Encoding | Origin"},
		{[]string{"Accept-Encoding, origin"}, "Accept-Encoding, origin"},
		{[]string{"Accept", "Origin"}, "Accept | Origin"},
		{[]string{"*"}, "*"},
		{[]string{"Accept, *"}, "Accept, *"},
		{[]string{"Originator"}, "Originator | Origin"},
	} {
		h := mustNew(t, Options{AllowOrigins: []string{"https://app.example.com"}}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Vary"] = tc.have
			w.WriteHeader(200)
		}))
		for _, origin := range []string{"", "https://app.example.com", "https://evil.example.com"} {
			r := httptest.NewRequest("GET", "/", nil)
			if origin != "" {
				r.Header.Set("Origin", origin)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if got := strings.Join(rec.Header()["Vary"], " | "); got != tc.want {
				t.Errorf("Vary %q, origin %q: got %q, want %q", tc.have, origin, got, tc.want)
			}
		}
	}
}

// TestHowever: the headers are on the response however the route writes
// it: implicitly, by a Write or a Flush, not at all, or as a refusal by
// the funnel (which clears the header first).
func TestHowever(t *testing.T) {
	fn := &funnel.Funnel{}
	for _, tc := range []struct {
		name   string
		inner  http.HandlerFunc
		status int
	}{
		{"write", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) }, 200},
		{"flush", func(w http.ResponseWriter, r *http.Request) { w.(http.Flusher).Flush() }, 200},
		{"nothing", func(w http.ResponseWriter, r *http.Request) {}, 200},
		{"status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }, 404},
		{"funnel", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			fn.Fail(w, r, fmt.Errorf("no key: %w", funnel.ErrTooManyRequests))
		}, 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustNew(t, Options{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: true}, tc.inner)
			r := httptest.NewRequest("GET", "/", nil)
			ctx, _ := reqinfo.NewContext(r.Context())
			r = r.WithContext(ctx)
			r.Header.Set("Origin", "https://app.example.com")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			want := map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if d := diff(corsHeaders(rec.Header()), want); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	ok := []string{"https://app.example.com"}
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"star with credentials", Options{AllowOrigins: []string{"*"}, AllowCredentials: true}, "allow_credentials"},
		{"no origins", Options{}, "empty"},
		{"bad origin", Options{AllowOrigins: []string{"https://app.example.com/"}}, "not an origin"},
		{"unanchored", Options{AllowOrigins: []string{`~https://app\.example\.com`}}, "anchored"},
		{"bad regexp", Options{AllowOrigins: []string{`~^https://[a-z$`}}, "missing closing ]"},
		{"headers star with credentials", Options{AllowOrigins: ok, AllowHeaders: []string{"*"}, AllowCredentials: true}, "allow_headers"},
		{"methods star with credentials", Options{AllowOrigins: ok, AllowMethods: []string{"*"}, AllowCredentials: true}, "allow_methods"},
		{"expose star with credentials", Options{AllowOrigins: ok, ExposeHeaders: []string{"*"}, AllowCredentials: true}, "expose_headers"},
		{"star and names", Options{AllowOrigins: ok, AllowHeaders: []string{"*", "X-One"}}, "alone"},
		{"bad method", Options{AllowOrigins: ok, AllowMethods: []string{"GET POST"}}, "not a token"},
		{"bad header", Options{AllowOrigins: ok, AllowHeaders: []string{"X-One:"}}, "not a token"},
		{"empty header", Options{AllowOrigins: ok, ExposeHeaders: []string{""}}, "not a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw, err := New(tc.o)
			if mw != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestOptionsNotAliased: New copies what it keeps, and its shared header
// values are not changed by a response that appends to them.
func TestOptionsNotAliased(t *testing.T) {
	methods := []string{"GET", "PUT"}
	h := mustNew(t, Options{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: methods}, http.NotFoundHandler())
	methods[1] = "DELETE"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, preflight("https://app.example.com", "PUT", ""))
	if got := rec.Header().Get("Access-Control-Allow-Methods"); got != "GET, PUT" {
		t.Fatalf("Allow-Methods %q after the caller's slice changed", got)
	}
	rec.Header()["Access-Control-Allow-Methods"] = append(rec.Header()["Access-Control-Allow-Methods"], "X")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, preflight("https://app.example.com", "PUT", ""))
	if got := rec.Header()["Access-Control-Allow-Methods"]; len(got) != 1 {
		t.Fatalf("Allow-Methods %q: a response's append reached the shared value", got)
	}
}

// TestLoopback: a preflight and the actual request over a real
// connection, the backend never seeing the preflight.
func TestLoopback(t *testing.T) {
	b := &backend{}
	srv := httptest.NewServer(mustNew(t, Options{
		AllowOrigins: []string{"https://*.example.com"}, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"Content-Type"},
		AllowCredentials: true, MaxAge: time.Hour,
	}, b))
	defer srv.Close()
	do := func(method string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+"/items/1", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := do("OPTIONS", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
	want := map[string]string{
		"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "3600",
		"Vary": preflightVary,
	}
	if d := diff(corsHeaders(res.Header), want); res.StatusCode != 204 || d != "" || b.calls != 0 {
		t.Errorf("preflight: %d, backend calls %d, %s", res.StatusCode, b.calls, d)
	}
	res = do("PUT", map[string]string{"Origin": "https://app.example.com", "Content-Type": "application/json"})
	want = map[string]string{
		"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
		"Vary": "Accept-Encoding | Origin",
	}
	if d := diff(corsHeaders(res.Header), want); res.StatusCode != 200 || d != "" || b.calls != 1 {
		t.Errorf("actual: %d, backend calls %d, %s", res.StatusCode, b.calls, d)
	}
}
