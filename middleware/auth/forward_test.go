package auth_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/middleware/auth"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// TestMain fails the package if goroutines outlive its tests: forward
// auth's connections (closed by Close), key set fetchers, servers.
func TestMain(m *testing.M) { os.Exit(testkit.RunCheckingLeaks(m, 5*time.Second, nil)) }

// authService is a forward auth service over loopback: it records what
// it was asked and answers with answer.
type authService struct {
	srv    *httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	last   *http.Request
	body   []byte
	answer func(w http.ResponseWriter, r *http.Request)
}

func newAuthService(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *authService {
	t.Helper()
	a := &authService{answer: answer}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.last, a.body = r.Clone(context.Background()), body
		answer := a.answer
		a.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authService) seen() (*http.Request, []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last, a.body
}

// admitAs answers 200 with the identity headers given in pairs.
func admitAs(h ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(h); i += 2 {
			w.Header().Add(h[i], h[i+1])
		}
		w.Write([]byte("ignored"))
	}
}

// newForward is a Forward on a's URL, closed when the test ends.
func newForward(t *testing.T, a *authService, o auth.ForwardOptions) *auth.Forward {
	t.Helper()
	if o.URL == "" {
		o.URL = a.srv.URL + "/check"
	}
	f, err := auth.NewForward(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// clientIP is what the front's trusted-proxy resolution finds.
var clientIP = netip.MustParseAddr("203.0.113.7")

// front runs the route's auth in front of a real backend, as Gatehouse
// does: a root that records the request's facts, the auth middleware
// refusing through the funnel, and a forwarder that applies the
// outbound edits to a copy of the header. It returns its URL and the
// identity of the last request.
func front(t *testing.T, o auth.Options, be *testkit.Backend) (string, func() *reqinfo.Identity) {
	t.Helper()
	f := &funnel.Funnel{RequestIDHeader: "X-Request-Id"}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	fwd := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := reqinfo.From(r.Context())
		out, err := http.NewRequestWithContext(r.Context(), r.Method, be.URL+r.URL.RequestURI(), r.Body)
		if err != nil {
			f.Fail(w, r, err)
			return
		}
		out.Header = r.Header.Clone()
		info.EditOutbound(out.Header, r)
		info.EditOutboundURL(out.URL)
		res, err := tr.RoundTrip(out)
		if err != nil {
			f.Fail(w, r, err)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		io.Copy(w, res.Body)
	})
	mw := auth.New(o, f.Fail)(fwd)
	var mu sync.Mutex
	var last *reqinfo.Identity
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, info := reqinfo.NewContext(r.Context())
		info.Scheme, info.ClientIP, info.RequestID = "https", clientIP, "rid-42"
		w.Header()["X-Request-Id"] = []string{"rid-42"}
		mw.ServeHTTP(w, r.WithContext(ctx))
		mu.Lock()
		last = info.Identity
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() *reqinfo.Identity {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// client sends requests as a browser would, following no redirect.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func send(t *testing.T, c *http.Client, method, url string, body io.Reader, h ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Add(h[i], h[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// spoofed are forwarding headers a client may try to pass to the
// authentication service.
var spoofed = []string{"X-Forwarded-For", "10.0.0.1", "X-Forwarded-Host", "admin.internal", "X-Forwarded-Proto", "http",
	"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/public", "X-Request-Id", "forged-id"}

func TestForwardSubrequest(t *testing.T) {
	svc := newAuthService(t, admitAs())
	be := testkit.NewBackend(t, "api", nil)
	c := client(t)
	for _, tc := range []struct {
		name     string
		send     []string // RequestHeaders; nil for the default
		wantSent []string
	}{
		{"default headers", nil, []string{"Authorization", "Cookie"}},
		{"chosen headers", []string{"x-tenant", "Accept"}, []string{"X-Tenant", "Accept"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := front(t, auth.Options{Methods: []auth.Method{newForward(t, svc, auth.ForwardOptions{RequestHeaders: tc.send})}}, be)
			h := append([]string{"Authorization", "Bearer tok", "Cookie", "sid=1", "X-Tenant", "acme", "Accept", "text/html", "X-Other", "no"}, spoofed...)
			for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
				res, _ := send(t, c, method, url+"/app/./x%2Fy?q=%41&z", strings.NewReader("the client's body"), h...)
				if res.StatusCode != 200 {
					t.Fatalf("%s: %d, want 200", method, res.StatusCode)
				}
				r, body := svc.seen()
				if r.Method != method || len(body) != 0 || r.ContentLength != 0 || r.URL.Path != "/check" {
					t.Errorf("%s: the service got %s %s with %d body bytes (Content-Length %d); want %s /check without a body", method, r.Method, r.URL.Path, len(body), r.ContentLength, method)
				}
				want := map[string]string{"X-Forwarded-Method": method, "X-Forwarded-Proto": "https",
					"X-Forwarded-Host": strings.TrimPrefix(url, "http://"), "X-Forwarded-Uri": "/app/./x%2Fy?q=%41&z",
					"X-Forwarded-For": clientIP.String(), "X-Request-Id": "rid-42"}
				for k, v := range want {
					if got := r.Header[k]; len(got) != 1 || got[0] != v {
						t.Errorf("%s: the service got %s %q, want %q set by Gatehouse", method, k, got, v)
					}
				}
				sent := map[string]bool{}
				for _, k := range tc.wantSent {
					sent[k] = true
					if r.Header.Get(k) == "" {
						t.Errorf("%s: the service did not get %s", method, k)
					}
				}
				for k, v := range r.Header {
					if _, ours := want[k]; !ours && !sent[k] && k != "Accept-Encoding" && k != "Content-Length" {
						t.Errorf("%s: the service got %s %q, which was not chosen", method, k, v)
					}
				}
			}
		})
	}
}

// An admission's copied headers reach the backend, and the client's
// copies of them never do.
func TestForwardAdmits(t *testing.T) {
	svc := newAuthService(t, admitAs("X-Auth-User", "alice", "X-Auth-Email", "alice@example.com",
		"X-Auth-Groups", "admins", "X-Auth-Groups", "staff", "X-Not-Copied", "x"))
	be := testkit.NewBackend(t, "api", nil)
	f := newForward(t, svc, auth.ForwardOptions{UserHeader: "x-auth-user",
		CopyHeaders: []string{"X-Auth-User", "X-Auth-Email", "X-Auth-Groups", "X-Auth-Tenant"}})
	url, identity := front(t, auth.Options{Methods: []auth.Method{f}, MethodHeader: "X-Auth-Method"}, be)
	res, body := send(t, client(t), http.MethodGet, url+"/app", nil, "Authorization", "Bearer tok", "Cookie", "sid=1",
		"X-Auth-User", "root", "X-Auth-Email", "root@evil", "X-Auth-Tenant", "forged", "X-Auth-Method", "basic")
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	reqs := be.Requests()
	got := reqs[len(reqs)-1].Header
	if got.Get("X-Auth-User") != "alice" || got.Get("X-Auth-Email") != "alice@example.com" ||
		strings.Join(got["X-Auth-Groups"], ",") != "admins,staff" || got.Get("X-Auth-Method") != "forward" {
		t.Errorf("upstream header %v, want the service's identity", got)
	}
	if _, ok := got["X-Auth-Tenant"]; ok || got.Get("X-Not-Copied") != "" {
		t.Errorf("upstream X-Auth-Tenant %q (the client's copy), X-Not-Copied %q", got["X-Auth-Tenant"], got.Get("X-Not-Copied"))
	}
	if got.Get("Authorization") != "Bearer tok" || got.Get("Cookie") != "sid=1" {
		t.Errorf("upstream Authorization %q, Cookie %q: forward auth leaves the credentials to the backend", got.Get("Authorization"), got.Get("Cookie"))
	}
	if id := identity(); id == nil || id.Method != "forward" || id.User != "alice" {
		t.Errorf("identity %+v", id)
	}
}

// A value with control characters (from a client other than Go's,
// which refuses them) goes upstream with spaces in their place.
func TestForwardCleansCopiedValues(t *testing.T) {
	svc := newAuthService(t, admitAs())
	be := testkit.NewBackend(t, "api", nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	dirty := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		res, err := tr.RoundTrip(r)
		if err == nil {
			res.Header["X-Auth-User"] = []string{"eve\r\nX-Admin: 1"}
			res.Header["X-Auth-Groups"] = []string{"a\x00b\x7fc\td"}
		}
		return res, err
	})}
	f := newForward(t, svc, auth.ForwardOptions{Client: dirty, UserHeader: "X-Auth-User", CopyHeaders: []string{"X-Auth-Groups"}})
	url, identity := front(t, auth.Options{Methods: []auth.Method{f}, UserHeader: "X-Auth-User"}, be)
	if res, _ := send(t, client(t), http.MethodGet, url, nil); res.StatusCode != 200 {
		t.Fatalf("%d", res.StatusCode)
	}
	reqs := be.Requests()
	got := reqs[len(reqs)-1].Header
	if got.Get("X-Auth-User") != "eve  X-Admin: 1" || got.Get("X-Auth-Groups") != "a b c\td" || got.Get("X-Admin") != "" {
		t.Errorf("upstream X-Auth-User %q, X-Auth-Groups %q, X-Admin %q", got.Get("X-Auth-User"), got.Get("X-Auth-Groups"), got.Get("X-Admin"))
	}
	if id := identity(); id.User != "eve  X-Admin: 1" {
		t.Errorf("identity user %q", id.User)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A denial reaches the client as the service sent it, whatever other
// method the route has; the backend never sees the request.
func TestForwardDenials(t *testing.T) {
	login := []byte("<html><body>Please <a href=\"/login\">log in</a></body></html>\n")
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   []byte
	}{
		{"401 with a challenge", 401, http.Header{"Www-Authenticate": {`Bearer realm="sso", error="invalid_token"`},
			"Content-Type": {"application/json"}, "X-Auth-Reason": {"expired"}}, []byte(`{"error":"expired"}`)},
		{"302 to the login page", 302, http.Header{"Location": {"https://sso.example/login?rd=https%3A%2F%2Fapp%2Fx"},
			"Set-Cookie": {"csrf=abc; Path=/; HttpOnly", "rd=%2Fx; Secure"}, "Content-Type": {"text/html; charset=utf-8"}, "Cache-Control": {"no-store"}}, login},
		{"403", 403, http.Header{"Content-Type": {"text/plain"}}, []byte("no access to this app\n")},
		{"an empty 401", 401, http.Header{"Www-Authenticate": {`Basic realm="sso"`}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newAuthService(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.Header().Set("Connection", "X-Hop")
				w.Header().Set("X-Hop", "one connection only")
				w.WriteHeader(tc.status)
				w.Write(tc.body)
			})
			be := testkit.NewBackend(t, "api", nil)
			basic, err := auth.NewBasic(auth.BasicOptions{Users: map[string]string{"alice": bcryptHash(t, "pw")}})
			if err != nil {
				t.Fatal(err)
			}
			url, _ := front(t, auth.Options{Methods: []auth.Method{basic, newForward(t, svc, auth.ForwardOptions{})}}, be)
			res, body := send(t, client(t), http.MethodGet, url+"/x", nil, "Cookie", "sid=expired")
			if res.StatusCode != tc.status || !bytes.Equal(body, tc.body) || res.ContentLength != int64(len(tc.body)) {
				t.Errorf("%d, %d bytes %q (Content-Length %d); want %d with the service's %q", res.StatusCode, len(body), body, res.ContentLength, tc.status, tc.body)
			}
			for k, v := range tc.header {
				if got := res.Header[k]; strings.Join(got, "\n") != strings.Join(v, "\n") {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if res.Header.Get("X-Hop") != "" || res.Header.Get("X-Request-Id") != "rid-42" {
				t.Errorf("X-Hop %q (named by Connection), X-Request-Id %q", res.Header.Get("X-Hop"), res.Header.Get("X-Request-Id"))
			}
			if _, ok := tc.header["Content-Type"]; !ok && res.Header.Get("Content-Type") != "" {
				t.Errorf("Content-Type %q, which the service did not send", res.Header.Get("Content-Type"))
			}
			if got := res.Header["Www-Authenticate"]; strings.Join(got, "|") != strings.Join(tc.header["Www-Authenticate"], "|") {
				t.Errorf("WWW-Authenticate %q, want only the service's: the basic challenge was offered too", got)
			}
			if be.Hits() != 0 {
				t.Error("a denied request reached the backend")
			}
		})
	}
}

// A denial's body over 64 KiB is not cut: the request is refused.
func TestForwardDenialTooLong(t *testing.T) {
	for _, size := range []int{64 << 10, 64<<10 + 1} {
		svc := newAuthService(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			w.Write(bytes.Repeat([]byte("x"), size))
		})
		be := testkit.NewBackend(t, "api", nil)
		url, _ := front(t, auth.Options{Methods: []auth.Method{newForward(t, svc, auth.ForwardOptions{OnError: "allow"})}}, be)
		res, body := send(t, client(t), http.MethodGet, url, nil)
		want := 401
		if size > 64<<10 {
			want = 503
		}
		if res.StatusCode != want || want == 401 && len(body) != size || be.Hits() != 0 {
			t.Errorf("a %d-byte denial: %d with %d bytes, %d backend hits; want %d, never admitted", size, res.StatusCode, len(body), be.Hits(), want)
		}
	}
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/check"
}

// A service that fails to decide is OnError's to answer: 503 (deny) or
// admitted as nobody (allow).
func TestForwardFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		down   bool
	}{
		{"timeout", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, false},
		{"down", nil, true},
		{"reset", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}, false},
		{"500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "panic: db at 10.1.2.3 is down", http.StatusInternalServerError)
		}, false},
		{"502", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }, false},
	} {
		for _, onError := range []string{"", "deny", "allow"} {
			t.Run(tc.name+"/"+onError, func(t *testing.T) {
				svc := newAuthService(t, tc.answer)
				o := auth.ForwardOptions{OnError: onError, Timeout: 200 * time.Millisecond, CopyHeaders: []string{"X-Auth-User"}}
				if tc.down {
					o.URL = closedURL(t)
				}
				be := testkit.NewBackend(t, "api", nil)
				url, identity := front(t, auth.Options{Methods: []auth.Method{newForward(t, svc, o)}, UserHeader: "X-Auth-User"}, be)
				start := time.Now()
				res, body := send(t, client(t), http.MethodGet, url, nil, "X-Auth-User", "root")
				if took := time.Since(start); took > 3*time.Second {
					t.Errorf("took %v; the timeout is 200 ms", took)
				}
				if onError != "allow" {
					if res.StatusCode != 503 || string(body) != "503 service unavailable: the authentication service did not answer\n" || be.Hits() != 0 {
						t.Errorf("%d %q, %d backend hits; want the funnel's 503", res.StatusCode, body, be.Hits())
					}
					return
				}
				if res.StatusCode != 200 || be.Hits() != 1 {
					t.Fatalf("%d %q, %d backend hits; want admitted", res.StatusCode, body, be.Hits())
				}
				if got := be.Requests()[0].Header.Get("X-Auth-User"); got != "" || identity() != nil {
					t.Errorf("upstream X-Auth-User %q, identity %+v; want the client's copy removed and no identity", got, identity())
				}
			})
		}
	}
}

// The client going away cancels the subrequest.
func TestForwardClientCancel(t *testing.T) {
	asked, canceled := make(chan struct{}), make(chan struct{})
	svc := newAuthService(t, func(w http.ResponseWriter, r *http.Request) {
		close(asked)
		select {
		case <-r.Context().Done():
			close(canceled)
		case <-time.After(10 * time.Second):
		}
	})
	be := testkit.NewBackend(t, "api", nil)
	url, _ := front(t, auth.Options{Methods: []auth.Method{newForward(t, svc, auth.ForwardOptions{Timeout: time.Minute})}}, be)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	done := make(chan error, 1)
	go func() {
		res, err := client(t).Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	<-asked
	cancel()
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the subrequest went on after the client left")
	}
	if err := <-done; err == nil {
		t.Error("the canceled request got an answer")
	}
	if be.Hits() != 0 {
		t.Error("the request reached the backend")
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestForwardCache(t *testing.T) {
	svc := newAuthService(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer bad" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("X-Auth-User", strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		w.Header().Set("X-Auth-Email", "someone@example.com")
	})
	be := testkit.NewBackend(t, "api", nil)
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := newForward(t, svc, auth.ForwardOptions{UserHeader: "X-Auth-User", CopyHeaders: []string{"X-Auth-Email"},
		Cache: auth.ForwardCache{TTL: time.Minute, MaxEntries: 2}, Now: clk.now})
	url, identity := front(t, auth.Options{Methods: []auth.Method{f}, UserHeader: "X-Auth-User"}, be)
	c := client(t)
	step := func(what, authz string, wantStatus int, wantCalls int32) {
		t.Helper()
		var h []string
		if authz != "" {
			h = []string{"Authorization", authz}
		}
		res, _ := send(t, c, http.MethodGet, url+"/"+strings.ReplaceAll(what, " ", "-"), nil, h...)
		if res.StatusCode != wantStatus || svc.calls.Load() != wantCalls {
			t.Fatalf("%s: %d after %d calls to the service; want %d after %d", what, res.StatusCode, svc.calls.Load(), wantStatus, wantCalls)
		}
		if wantStatus != 200 {
			return
		}
		reqs := be.Requests()
		got := reqs[len(reqs)-1].Header
		user := strings.TrimPrefix(authz, "Bearer ")
		if got.Get("X-Auth-User") != user || got.Get("X-Auth-Email") != "someone@example.com" || identity().User != user {
			t.Fatalf("%s: upstream X-Auth-User %q, X-Auth-Email %q, identity %+v; want %q's", what, got.Get("X-Auth-User"), got.Get("X-Auth-Email"), identity(), user)
		}
	}
	step("first", "Bearer a", 200, 1)
	step("again within the TTL", "Bearer a", 200, 1)
	clk.add(59 * time.Second)
	step("just within", "Bearer a", 200, 1)
	clk.add(time.Second)
	step("after the TTL", "Bearer a", 200, 2)
	step("cached anew", "Bearer a", 200, 2)
	step("another value", "Bearer b", 200, 3)
	step("denied", "Bearer bad", 401, 4)
	step("denied again, not cached", "Bearer bad", 401, 5)
	step("no key headers", "", 200, 6)
	step("no key headers, not cached", "", 200, 7)
	// The bound is 2, the least recently used going first, not the
	// oldest.
	step("b used", "Bearer b", 200, 7)
	step("c pushes out a", "Bearer c", 200, 8)
	step("b kept", "Bearer b", 200, 8)
	step("a pushes out c, used before b", "Bearer a", 200, 9)
	step("b kept again", "Bearer b", 200, 9)
	step("c was pushed out", "Bearer c", 200, 10)
}

// Keys are the values of the key headers, each one's boundaries kept:
// values that run together differently are different keys.
func TestForwardCacheKeys(t *testing.T) {
	svc := newAuthService(t, admitAs())
	be := testkit.NewBackend(t, "api", nil)
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := newForward(t, svc, auth.ForwardOptions{RequestHeaders: []string{"Authorization", "Cookie", "X-Tenant"},
		Cache: auth.ForwardCache{TTL: time.Minute, Key: []string{"authorization", "cookie"}}, Now: clk.now})
	url, _ := front(t, auth.Options{Methods: []auth.Method{f}}, be)
	c := client(t)
	for i, h := range [][]string{
		{"Authorization", "ab"},
		{"Authorization", "a", "Authorization", "b"},
		{"Authorization", "a", "Cookie", "b"},
		{"Cookie", "ab"},
		{"Authorization", "", "Cookie", "ab"},
		{"Authorization", "a", "Authorization", "bc"},
		{"Authorization", "ab", "Authorization", "c"},
		{"Authorization", "ab", "Cookie", "c"},
		{"Authorization", "a", "Cookie", "bc"},
	} {
		send(t, c, http.MethodGet, url, nil, h...)
		if n := svc.calls.Load(); n != int32(i+1) {
			t.Errorf("%q: %d calls, want %d: it shares another's key", h, n, i+1)
		}
	}
	send(t, c, http.MethodGet, url, nil, "Authorization", "ab", "X-Tenant", "other")
	if n := svc.calls.Load(); n != 9 {
		t.Errorf("a header that is not in the key made a new one: %d calls", n)
	}
}

func TestNewForwardRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    auth.ForwardOptions
		want string
	}{
		{"no URL", auth.ForwardOptions{}, "not an http or https URL"},
		{"another scheme", auth.ForwardOptions{URL: "ftp://auth/"}, "not an http or https URL"},
		{"no host", auth.ForwardOptions{URL: "http:///check"}, "not an http or https URL"},
		{"on_error", auth.ForwardOptions{URL: "http://auth/", OnError: "maybe"}, `on_error "maybe"`},
		{"hop-by-hop", auth.ForwardOptions{URL: "http://auth/", RequestHeaders: []string{"connection"}}, `request header "connection"`},
		{"Gatehouse's own", auth.ForwardOptions{URL: "http://auth/", RequestHeaders: []string{"X-Forwarded-For"}}, `request header "X-Forwarded-For"`},
		{"the request ID", auth.ForwardOptions{URL: "http://auth/", RequestHeaders: []string{"X-Request-Id"}}, `request header "X-Request-Id"`},
		{"Host", auth.ForwardOptions{URL: "http://auth/", RequestHeaders: []string{"Host"}}, `request header "Host"`},
		{"not a name", auth.ForwardOptions{URL: "http://auth/", CopyHeaders: []string{"X Auth"}}, `copied header "X Auth"`},
		{"copied hop-by-hop", auth.ForwardOptions{URL: "http://auth/", CopyHeaders: []string{"Transfer-Encoding"}}, `copied header "Transfer-Encoding"`},
		{"a key not sent", auth.ForwardOptions{URL: "http://auth/", Cache: auth.ForwardCache{TTL: time.Second, Key: []string{"X-Api-Key"}}}, `cache key header "X-Api-Key"`},
		{"no key", auth.ForwardOptions{URL: "http://auth/", RequestHeaders: []string{}, Cache: auth.ForwardCache{TTL: time.Second}}, "needs key headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := auth.NewForward(tc.o)
			if err == nil {
				f.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want it to say %s", err, tc.want)
			}
		})
	}
}

// Over HTTPS with the caller's client: its redirect policy and cookie
// jar are not used, a 302 goes to the client.
func TestForwardHTTPS(t *testing.T) {
	var jarred atomic.Bool
	svc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("svc"); err == nil && c.Value == "state" {
			jarred.Store(true)
		}
		if r.URL.Path == "/login" {
			w.Write([]byte("followed"))
			return
		}
		if r.Header.Get("Authorization") == "" {
			http.SetCookie(w, &http.Cookie{Name: "svc", Value: "state"})
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		w.Header().Set("X-Auth-User", "tls-user")
	}))
	t.Cleanup(svc.Close)
	withJar := *svc.Client()
	withJar.Jar, _ = cookiejar.New(nil)
	f, err := auth.NewForward(auth.ForwardOptions{URL: svc.URL + "/check", Client: &withJar, UserHeader: "X-Auth-User"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); svc.Client().CloseIdleConnections() })
	be := testkit.NewBackend(t, "api", nil)
	url, identity := front(t, auth.Options{Methods: []auth.Method{f}}, be)
	c := client(t)
	if res, body := send(t, c, http.MethodGet, url, nil); res.StatusCode != 302 || res.Header.Get("Location") != "/login" {
		t.Errorf("%d %q, Location %q; want the service's 302", res.StatusCode, body, res.Header.Get("Location"))
	}
	if res, _ := send(t, c, http.MethodGet, url, nil, "Authorization", "Bearer x"); res.StatusCode != 200 || identity().User != "tls-user" {
		t.Errorf("%d, identity %+v", res.StatusCode, identity())
	}
	if jarred.Load() {
		t.Error("a cookie the service set for one client was sent for another")
	}

	// Forward's own client, with the service's CA; and without it.
	pool := x509.NewCertPool()
	pool.AddCert(svc.Certificate())
	for _, tc := range []struct {
		name string
		cas  *x509.CertPool
		want int
	}{{"root CAs", pool, 200}, {"the system's CAs", nil, 503}} {
		f := newForward(t, nil, auth.ForwardOptions{URL: svc.URL + "/check", RootCAs: tc.cas})
		url, _ := front(t, auth.Options{Methods: []auth.Method{f}}, be)
		if res, _ := send(t, c, http.MethodGet, url, nil, "Authorization", "Bearer x"); res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	if _, err := auth.NewForward(auth.ForwardOptions{URL: svc.URL, Client: svc.Client(), RootCAs: pool}); err == nil {
		t.Error("a client and root CAs were accepted together")
	}
}

// Close closes the connections Forward keeps to the service, and those
// of subrequests that end after it.
func TestForwardClose(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	arrived, release := make(chan struct{}), make(chan struct{})
	svc := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "slow" {
			close(arrived)
			<-release
		}
	}))
	svc.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		if s == http.StateClosed || s == http.StateHijacked {
			delete(open, c)
		} else {
			open[c] = true
		}
	}
	svc.Start()
	t.Cleanup(svc.Close)
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	t.Cleanup(letGo) // before svc.Close, which waits for the handler
	f, err := auth.NewForward(auth.ForwardOptions{URL: svc.URL})
	if err != nil {
		t.Fatal(err)
	}
	be := testkit.NewBackend(t, "api", nil)
	url, _ := front(t, auth.Options{Methods: []auth.Method{f}}, be)
	c := client(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { send(t, c, http.MethodGet, url, nil) })
	}
	wg.Wait()
	slow := make(chan struct{})
	go func() {
		defer close(slow)
		send(t, c, http.MethodGet, url, nil, "Authorization", "slow")
	}()
	<-arrived
	f.Close()
	f.Close()
	eventuallyTrue(t, "the idle connections to close", func() bool { mu.Lock(); defer mu.Unlock(); return len(open) == 1 })
	letGo()
	<-slow
	eventuallyTrue(t, "every connection to the service to close", func() bool { mu.Lock(); defer mu.Unlock(); return len(open) == 0 })
}

func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
