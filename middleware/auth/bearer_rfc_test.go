package auth

// Test cases named after the requirements of RFC 6750 (bearer tokens)
// and RFC 9110 section 11 (the HTTP authentication framework) that a
// resource server has; requirements.md lists them by section.

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// serveAuth runs r through the auth middleware with methods, answering
// refusals through the real funnel, and returns the response and
// whether the backend was reached.
func serveAuth(t *testing.T, r *http.Request, o Options) (*http.Response, bool) {
	t.Helper()
	reached := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })
	h := New(o, (&funnel.Funnel{}).Fail)(next)
	ctx, _ := reqinfo.NewContext(r.Context())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w.Result(), reached
}

func TestRFC6750(t *testing.T) {
	k := keys()
	clk := newClock()
	good := sign(t, "HS256", k.secret, "", claimsAt(clk))

	t.Run("6750 2.1 a token in the Authorization header is accepted", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), good, "ok")
	})
	t.Run("6750 2.1 the Bearer scheme is matched case-insensitively", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", scheme+" "+good)
			if _, err := a.Authenticate(r); err != nil {
				t.Errorf("%s: %v", scheme, err)
			}
		}
	})
	t.Run("6750 2.1 a b64token is taken whole, padding included", func(t *testing.T) {
		for _, tok := range []string{"mF_9.B5f-4.1JqM", "a+b/c~d==", good} {
			if got, ok := bearer("Bearer " + tok); !ok || got != tok {
				t.Errorf("bearer(%q) = %q, %v", tok, got, ok)
			}
		}
		// A b64token that is not a JWS reaches the parser and is refused.
		expect(t, hsJWT(t, clk, nil), "a+b/c~d==", "bad")
	})
	t.Run("6750 2.1 Bearer without a token is no credentials", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, v := range []string{"Bearer", "Bearer ", "Bearer \t ", ""} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Authorization"] = []string{v}
			if _, err := a.Authenticate(r); class(err) != "none" {
				t.Errorf("%q: %v, want none", v, err)
			}
		}
	})
	t.Run("6750 2.1 another scheme is not a bearer token", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, v := range []string{"Basic YTpi", "Bearerx " + good, "Token " + good, "JWT " + good, good} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", v)
			if _, err := a.Authenticate(r); class(err) != "none" {
				t.Errorf("%q: %v, want none", v, err)
			}
		}
	})
	t.Run("6750 2.1 a value that is not one b64token is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, v := range []string{good + " " + good, good + ",x", "a b", good + "\x7f"} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Authorization"] = []string{"Bearer " + v}
			if _, err := a.Authenticate(r); class(err) != "bad" {
				t.Errorf("%q: %v, want bad", v, err)
			}
		}
	})
	t.Run("6750 2.2 a token in a form body is not read", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("access_token="+good))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, err := hsJWT(t, clk, nil).Authenticate(r); class(err) != "none" {
			t.Errorf("%v, want none", err)
		}
	})
	t.Run("6750 2.3 a token in the query is read only when configured", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/?access_token="+good, nil)
		if _, err := hsJWT(t, clk, nil).Authenticate(r); class(err) != "none" {
			t.Errorf("header method: %v, want none", err)
		}
		if _, err := hsJWT(t, clk, func(o *JWTOptions) { o.Query = "access_token" }).Authenticate(r); err != nil {
			t.Errorf("query method: %v", err)
		}
	})
	t.Run("6750 5.3 a cookie token is refused on a cross-origin unsafe request", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) {
			o.Cookie = "session"
			o.TrustedOrigins = []string{"https://app.example.com"}
		})
		for _, tc := range []struct {
			method string
			header []string
			want   int
		}{
			{"POST", []string{"Sec-Fetch-Site", "cross-site"}, 403},
			{"DELETE", []string{"Origin", "https://evil.example"}, 403},
			{"POST", []string{"Sec-Fetch-Site", "same-origin"}, 200},
			{"POST", []string{"Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site"}, 200}, // trusted
			{"GET", []string{"Sec-Fetch-Site", "cross-site"}, 200},                                       // a safe method
			{"POST", nil, 200}, // not a browser
		} {
			r := httptest.NewRequest(tc.method, "http://api.example.com/orders", nil)
			r.AddCookie(&http.Cookie{Name: "session", Value: good})
			for i := 0; i+1 < len(tc.header); i += 2 {
				r.Header.Set(tc.header[i], tc.header[i+1])
			}
			res, reached := serveAuth(t, r, Options{Methods: []Method{a}})
			if res.StatusCode != tc.want || reached != (tc.want == 200) {
				t.Errorf("%s %v: %d (reached %v), want %d", tc.method, tc.header, res.StatusCode, reached, tc.want)
			}
			if tc.want == 403 && res.Header.Get("WWW-Authenticate") != "" {
				t.Errorf("%s %v: a challenge %q on a forgery refusal", tc.method, tc.header, res.Header.Get("WWW-Authenticate"))
			}
		}
		if _, err := NewJWT(JWTOptions{Keys: []JWTKey{{Secret: k.secret}}, TrustedOrigins: []string{"https://a.example"}}); err == nil {
			t.Error("trusted origins without a cookie were accepted")
		}
	})
	t.Run("6750 2.3 a 2xx answer to a query token is Cache-Control private", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.Query = "access_token" })
		for _, tc := range []struct {
			status   int
			cc, want string
			byHeader bool
		}{
			{200, "public, max-age=60, s-maxage=600", "private, max-age=60", false},
			{200, "", "private", false},
			{200, "no-store", "no-store", false},
			{404, "max-age=60", "max-age=60", false},
			{200, "public, max-age=60", "public, max-age=60", true},
		} {
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.cc != "" {
					w.Header().Set("Cache-Control", tc.cc)
				}
				w.WriteHeader(tc.status)
			})
			h := New(Options{Methods: []Method{a, hsJWT(t, clk, nil)}}, (&funnel.Funnel{}).Fail)(next)
			r := httptest.NewRequest(http.MethodGet, "/?access_token="+good, nil)
			if tc.byHeader {
				r = bearerReq(good)
			}
			ctx, _ := reqinfo.NewContext(r.Context())
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r.WithContext(ctx))
			if got := w.Header().Get("Cache-Control"); w.Code != tc.status || got != tc.want {
				t.Errorf("%d %q (by header %v): %d %q, want %q", tc.status, tc.cc, tc.byHeader, w.Code, got, tc.want)
			}
		}
	})
	t.Run("6750 2.3 a query token is kept from the upstream and the access log", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.Query = "access_token" })
		u, _ := url.Parse("/orders?page=2&access_token=" + good)
		a.StripURL(u)
		if u.RawQuery != "page=2" || a.SecretParam() != "access_token" {
			t.Errorf("upstream query %q, secret parameter %q", u.RawQuery, a.SecretParam())
		}
	})
	t.Run("6750 3 a 401 has a Bearer challenge with one realm", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.Realm = "orders" })
		res, reached := serveAuth(t, httptest.NewRequest(http.MethodGet, "/", nil), Options{Methods: []Method{a}})
		if got := res.Header.Values("WWW-Authenticate"); res.StatusCode != 401 || len(got) != 1 || got[0] != `Bearer realm="orders"` || reached {
			t.Errorf("%d %q (backend reached: %v)", res.StatusCode, got, reached)
		}
	})
	t.Run("6750 3.1 a request without a token gets no error code", func(t *testing.T) {
		res, _ := serveAuth(t, httptest.NewRequest(http.MethodGet, "/", nil), Options{Methods: []Method{hsJWT(t, clk, nil)}})
		if c := res.Header.Get("WWW-Authenticate"); strings.Contains(c, "error") {
			t.Errorf("challenge %q", c)
		}
	})
	t.Run("6750 3.1 an invalid token is a 401 with the challenge", func(t *testing.T) {
		expired := sign(t, "HS256", k.secret, "", map[string]any{"sub": "a", "exp": clk.now().Unix() - 3600})
		for _, tok := range []string{expired, good + "x", "garbage"} {
			res, reached := serveAuth(t, bearerReq(tok), Options{Methods: []Method{hsJWT(t, clk, nil)}})
			if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer ") || reached {
				t.Errorf("%.20s: %d %q", tok, res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
		}
	})
	t.Run("6750 3 a request with a bad token gets error=invalid_token", func(t *testing.T) {
		expired := sign(t, "HS256", k.secret, "", map[string]any{"sub": "a", "exp": clk.now().Unix() - 3600})
		for _, tok := range []string{expired, good + "x", "garbage"} {
			res, _ := serveAuth(t, bearerReq(tok), Options{Methods: []Method{hsJWT(t, clk, nil)}})
			if got := res.Header.Values("WWW-Authenticate"); res.StatusCode != 401 || len(got) != 1 || got[0] != `Bearer realm="Gatehouse", error="invalid_token"` {
				t.Errorf("%.20s: %d %q", tok, res.StatusCode, got)
			}
		}
	})
	t.Run("6750 3.1 insufficient scope is a 403 with error=insufficient_scope", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.RequireClaims = map[string][]string{"scope": {"orders:write"}} })
		c := claimsAt(clk)
		c["scope"] = "orders:read"
		res, _ := serveAuth(t, bearerReq(sign(t, "HS256", k.secret, "", c)), Options{Methods: []Method{a}})
		if got := res.Header.Values("WWW-Authenticate"); res.StatusCode != 403 || len(got) != 1 || got[0] != `Bearer realm="Gatehouse", error="insufficient_scope"` {
			t.Errorf("%d %q", res.StatusCode, got)
		}
	})
	t.Run("6750 3.1 insufficient scope is a 403", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.RequireClaims = map[string][]string{"scope": {"orders:write"}} })
		c := claimsAt(clk)
		c["scope"] = "orders:read"
		res, reached := serveAuth(t, bearerReq(sign(t, "HS256", k.secret, "", c)), Options{Methods: []Method{a}})
		if res.StatusCode != 403 || reached {
			t.Errorf("%d, backend reached %v", res.StatusCode, reached)
		}
	})
	t.Run("6750 5.3 the token is not sent upstream unless forwarding is asked for", func(t *testing.T) {
		h := http.Header{"Authorization": {"Bearer " + good}}
		hsJWT(t, clk, nil).StripHeader(h)
		if len(h) != 0 {
			t.Errorf("left %v", h)
		}
		h = http.Header{"Authorization": {"Bearer " + good}}
		hsJWT(t, clk, func(o *JWTOptions) { o.Forward = true }).StripHeader(h)
		if h.Get("Authorization") == "" {
			t.Error("Forward: the token was removed")
		}
	})
}

func TestRFC9110Auth(t *testing.T) {
	k := keys()
	clk := newClock()
	basic := newBasicFor(t, "alice", "pw")

	t.Run("9110 11.6.1 a 401 offers the challenge of every method", func(t *testing.T) {
		res, reached := serveAuth(t, httptest.NewRequest(http.MethodGet, "/", nil), Options{Methods: []Method{basic, hsJWT(t, clk, nil)}})
		want := []string{`Basic realm="Gatehouse", charset="UTF-8"`, `Bearer realm="Gatehouse"`}
		got := slices.Sorted(slices.Values(res.Header.Values("WWW-Authenticate")))
		if res.StatusCode != 401 || !slices.Equal(got, want) || reached {
			t.Errorf("%d %q, want 401 %q", res.StatusCode, got, want)
		}
	})
	t.Run("9110 11.6.1 a 401 of a route with API keys alone offers a challenge", func(t *testing.T) {
		keys, err := NewAPIKey(APIKeyOptions{Header: "X-API-Key", Keys: []Key{{SHA256: strings.Repeat("ab", 32), Identity: "x"}}})
		if err != nil {
			t.Fatal(err)
		}
		res, reached := serveAuth(t, httptest.NewRequest(http.MethodGet, "/", nil), Options{Methods: []Method{keys}})
		if got := res.Header.Values("WWW-Authenticate"); res.StatusCode != 401 || len(got) != 1 || got[0] != `APIKey header="X-API-Key"` || reached {
			t.Errorf("%d %q", res.StatusCode, got)
		}
	})
	t.Run("9110 15.5.2 wrong credentials are a 401 with the challenges", func(t *testing.T) {
		r := withBasic("alice", "wrong")
		res, reached := serveAuth(t, r, Options{Methods: []Method{basic, hsJWT(t, clk, nil)}})
		if res.StatusCode != 401 || len(res.Header.Values("WWW-Authenticate")) != 2 || reached {
			t.Errorf("%d %q", res.StatusCode, res.Header.Values("WWW-Authenticate"))
		}
	})
	t.Run("9110 15.5.4 credentials that may not use the route are a 403", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.RequireClaims = map[string][]string{"role": {"admin"}} })
		res, reached := serveAuth(t, bearerReq(sign(t, "HS256", k.secret, "", claimsAt(clk))), Options{Methods: []Method{a}})
		if res.StatusCode != 403 || reached {
			t.Errorf("%d, backend reached %v", res.StatusCode, reached)
		}
	})
	t.Run("9110 11.5 the realm is sent as a quoted-string", func(t *testing.T) {
		realm := "Caf\u00e9 \"staff\" \\ 2\u200b" // U+200B is not printable: strconv.Quote would write \u200b
		b, err := NewBasic(BasicOptions{Realm: realm})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := b.Challenge(), "Basic realm=\"Caf\u00e9 \\\"staff\\\" \\\\ 2\u200b\", charset=\"UTF-8\""; got != want {
			t.Errorf("Basic challenge %s, want %s", got, want)
		}
		if got, want := hsJWT(t, clk, func(o *JWTOptions) { o.Realm = realm }).Challenge(), "Bearer realm=\"Caf\u00e9 \\\"staff\\\" \\\\ 2\u200b\""; got != want {
			t.Errorf("Bearer challenge %s, want %s", got, want)
		}
	})
	t.Run("9110 11.5 a realm with a control character is refused", func(t *testing.T) {
		for _, realm := range []string{"a\nb", "a\rb", "a\x00", "a\x7f"} {
			if _, err := NewBasic(BasicOptions{Realm: realm}); err == nil {
				t.Errorf("basic realm %q accepted", realm)
			}
			if err := CheckJWT(JWTOptions{Realm: realm, Keys: []JWTKey{{Secret: k.secret}}}); err == nil {
				t.Errorf("jwt realm %q accepted", realm)
			}
		}
		if _, err := NewBasic(BasicOptions{Realm: "tab\tok"}); err != nil {
			t.Errorf("a tab, which a quoted-string may hold: %v", err)
		}
	})
}

// newBasicFor is a Basic method with one user.
func newBasicFor(t testing.TB, user, pass string) *Basic {
	t.Helper()
	b, err := NewBasic(BasicOptions{Users: map[string]string{user: bcryptOf(t, pass)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
