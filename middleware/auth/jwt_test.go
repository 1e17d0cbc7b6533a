package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testKeys are real keys of every kind, made once for the package.
type testKeys struct {
	rsa, rsa2           *rsa.PrivateKey
	ec256, ec384, ec521 *ecdsa.PrivateKey
	ed                  ed25519.PrivateKey
	secret              []byte
}

var keys = sync.OnceValue(func() *testKeys {
	k := &testKeys{secret: make([]byte, 64)}
	var err error
	must := func() {
		if err != nil {
			panic(err)
		}
	}
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must()
	k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048)
	must()
	k.ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must()
	k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must()
	k.ec521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must()
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must()
	_, err = rand.Read(k.secret)
	must()
	return k
})

// forAlg is the private key that signs alg and the public key (or
// secret) that verifies it.
func (k *testKeys) forAlg(alg string) (priv, pub any) {
	switch alg[:2] {
	case "HS":
		return k.secret, k.secret
	case "RS", "PS":
		return k.rsa, &k.rsa.PublicKey
	case "Ed":
		return k.ed, k.ed.Public()
	}
	ec := map[string]*ecdsa.PrivateKey{"ES256": k.ec256, "ES384": k.ec384, "ES512": k.ec521}[alg]
	return ec, &ec.PublicKey
}

// staticFor is the JWTKey verifying alg: the secret or a PEM public key.
func (k *testKeys) staticFor(t testing.TB, alg string) JWTKey {
	_, pub := k.forAlg(alg)
	if s, ok := pub.([]byte); ok {
		return JWTKey{Secret: s}
	}
	return JWTKey{PEM: pemOf(t, pub)}
}

func pemOf(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func sign(t testing.TB, alg string, priv any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return s
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var algs = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func bearerReq(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://gw.test/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func newTestJWT(t testing.TB, o JWTOptions) *JWT {
	t.Helper()
	a, err := NewJWT(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// class names the error class of err for the tables.
func class(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNotAllowed):
		return "forbidden"
	case errors.Is(err, ErrBadCredentials):
		return "bad"
	case errors.Is(err, ErrNoCredentials):
		return "none"
	}
	return "other: " + err.Error()
}

// TestJWTValidation runs every claim case against a key of every
// algorithm.
func TestJWTValidation(t *testing.T) {
	k := keys()
	clk := newClock()
	now := clk.now().Unix()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "alice", "iss": "https://idp.test", "aud": "orders",
			"iat": now - 10, "exp": now + 300, "scope": "orders:read orders:write"}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	cases := []struct {
		name   string
		claims jwt.MapClaims
		opts   func(*JWTOptions)
		want   string
	}{
		{"valid", good(), nil, "ok"},
		{"expired", with("exp", now-60), nil, "bad"},
		{"expired within leeway", with("exp", now-20), nil, "ok"},
		{"expired, no leeway", with("exp", now-1), func(o *JWTOptions) { o.Leeway = -1 }, "bad"},
		{"not yet valid", with("nbf", now+60), nil, "bad"},
		{"nbf within leeway", with("nbf", now+20), nil, "ok"},
		{"issued in the future", with("iat", now+120), nil, "bad"},
		{"missing exp", with("exp", nil), nil, "bad"},
		{"missing exp, optional", with("exp", nil), func(o *JWTOptions) { o.ExpOptional = true }, "ok"},
		{"exp not a number", with("exp", "tomorrow"), nil, "bad"},
		{"wrong iss", with("iss", "https://evil.test"), nil, "bad"},
		{"no iss", with("iss", nil), nil, "bad"},
		{"second issuer", with("iss", "https://idp2.test"), nil, "ok"},
		{"wrong aud", with("aud", "billing"), nil, "bad"},
		{"no aud", with("aud", nil), nil, "bad"},
		{"aud array", with("aud", []string{"billing", "orders"}), nil, "ok"},
		{"no sub", with("sub", nil), nil, "bad"},
		{"other user claim", with("sub", nil), func(o *JWTOptions) { o.UserClaim = "iss" }, "ok"},
		{"missing scope", with("scope", "orders:read"), nil, "forbidden"},
		{"no scope claim", with("scope", nil), nil, "forbidden"},
		{"scope as array", with("scope", []string{"orders:write"}), nil, "ok"},
		{"scope substring is not a scope", with("scope", "orders:writer"), nil, "forbidden"},
		{"expired and missing scope", jwt.MapClaims{"sub": "a", "iss": "https://idp.test", "aud": "orders", "exp": now - 60}, nil, "bad"},
	}
	for _, alg := range algs {
		priv, _ := k.forAlg(alg)
		for _, c := range cases {
			t.Run(alg+"/"+c.name, func(t *testing.T) {
				o := JWTOptions{Keys: []JWTKey{k.staticFor(t, alg)}, Now: clk.now,
					Issuers: []string{"https://idp.test", "https://idp2.test"}, Audiences: []string{"orders"},
					RequireClaims: map[string][]string{"scope": {"orders:write"}}}
				if c.opts != nil {
					c.opts(&o)
				}
				a := newTestJWT(t, o)
				id, err := a.Authenticate(bearerReq(sign(t, alg, priv, "", c.claims)))
				if got := class(err); got != c.want {
					t.Fatalf("got %s (%v), want %s", got, err, c.want)
				}
				if err == nil && (id.Method != "jwt" || id.User == "") {
					t.Errorf("identity %+v", id)
				}
			})
		}
		t.Run(alg+"/tampered payload", func(t *testing.T) {
			a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, alg)}, Now: clk.now})
			tok := sign(t, alg, priv, "", good())
			parts := strings.Split(tok, ".")
			c := good()
			c["sub"] = "root"
			parts[1] = strings.Split(sign(t, alg, priv, "", c), ".")[1]
			if _, err := a.Authenticate(bearerReq(strings.Join(parts, "."))); class(err) != "bad" {
				t.Fatalf("tampered token: %v", err)
			}
			parts = strings.Split(tok, ".")
			sig := []byte(parts[2])
			sig[len(sig)/2] ^= 1
			parts[2] = string(sig)
			if _, err := a.Authenticate(bearerReq(strings.Join(parts, "."))); class(err) != "bad" {
				t.Fatalf("tampered signature: %v", err)
			}
		})
		t.Run(alg+"/alg none", func(t *testing.T) {
			a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, alg)}, Now: clk.now})
			tok := sign(t, "none", jwt.UnsafeAllowNoneSignatureType, "", good())
			if _, err := a.Authenticate(bearerReq(tok)); class(err) != "bad" {
				t.Fatalf("alg none: %v", err)
			}
			// "none" spelled otherwise, with the real signature appended.
			real := strings.Split(sign(t, alg, priv, "", good()), ".")
			hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"NONE","typ":"JWT"}`))
			if _, err := a.Authenticate(bearerReq(hdr + "." + real[1] + "." + real[2])); class(err) != "bad" {
				t.Fatalf("alg NONE: %v", err)
			}
		})
	}
}

// TestJWTConfusion: a key verifies only its own kind of algorithm,
// whatever the token's header says.
func TestJWTConfusion(t *testing.T) {
	k := keys()
	clk := newClock()
	claims := jwt.MapClaims{"sub": "mallory", "exp": clk.now().Unix() + 60}
	rsaPEM := pemOf(t, &k.rsa.PublicKey)
	cases := []struct {
		name  string
		key   JWTKey
		algs  []string
		token string
	}{
		// The classic: the attacker knows the public key and signs HS256
		// with its PEM text as the secret.
		{"HS256 signed with the RSA PEM", JWTKey{PEM: rsaPEM}, nil, sign(t, "HS256", rsaPEM, "", claims)},
		{"HS256 signed with the RSA DER", JWTKey{PEM: rsaPEM}, nil, sign(t, "HS256", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey), "", claims)},
		{"RS256 against an HMAC secret", JWTKey{Secret: k.secret}, nil, sign(t, "RS256", k.rsa, "", claims)},
		{"ES256 against an RSA key", JWTKey{PEM: rsaPEM}, nil, sign(t, "ES256", k.ec256, "", claims)},
		{"ES384 against a P-256 key", JWTKey{PEM: pemOf(t, &k.ec256.PublicKey)}, nil, sign(t, "ES384", k.ec384, "", claims)},
		{"EdDSA against an EC key", JWTKey{PEM: pemOf(t, &k.ec256.PublicKey)}, nil, sign(t, "EdDSA", k.ed, "", claims)},
		{"PS256 against a key pinned to RS256", JWTKey{PEM: rsaPEM, Algorithms: []string{"RS256"}}, nil, sign(t, "PS256", k.rsa, "", claims)},
		{"PS256 when only RS256 is allowed", JWTKey{PEM: rsaPEM}, []string{"RS256"}, sign(t, "PS256", k.rsa, "", claims)},
		{"HS512 against a 32-byte secret", JWTKey{Secret: k.secret[:32]}, nil, sign(t, "HS512", k.secret[:32], "", claims)},
		{"RS256 by another RSA key", JWTKey{PEM: rsaPEM}, nil, sign(t, "RS256", k.rsa2, "", claims)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newTestJWT(t, JWTOptions{Keys: []JWTKey{c.key}, Algorithms: c.algs, Now: clk.now})
			if id, err := a.Authenticate(bearerReq(c.token)); class(err) != "bad" {
				t.Fatalf("accepted or wrong class: %v %v", id, err)
			}
		})
	}
}

func TestJWTKeyIDs(t *testing.T) {
	k := keys()
	clk := newClock()
	claims := jwt.MapClaims{"sub": "a", "exp": clk.now().Unix() + 60}
	a := newTestJWT(t, JWTOptions{Now: clk.now, Keys: []JWTKey{
		{ID: "one", PEM: pemOf(t, &k.rsa.PublicKey)},
		{ID: "two", PEM: pemOf(t, &k.rsa2.PublicKey)},
	}})
	for _, c := range []struct {
		name string
		tok  string
		want string
	}{
		{"kid one", sign(t, "RS256", k.rsa, "one", claims), "ok"},
		{"kid two", sign(t, "RS256", k.rsa2, "two", claims), "ok"},
		{"no kid tries both", sign(t, "RS256", k.rsa2, "", claims), "ok"},
		{"kid names the other key", sign(t, "RS256", k.rsa, "two", claims), "bad"},
		{"unknown kid", sign(t, "RS256", k.rsa, "three", claims), "bad"},
	} {
		if _, err := a.Authenticate(bearerReq(c.tok)); class(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

func TestJWTKeyFormats(t *testing.T) {
	k := keys()
	clk := newClock()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: clk.now().Add(-time.Hour), NotAfter: clk.now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.rsa.PublicKey, k.rsa)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)})
	tok := sign(t, "RS256", k.rsa, "", jwt.MapClaims{"sub": "a", "exp": clk.now().Unix() + 60})
	for name, p := range map[string][]byte{"certificate": certPEM, "pkcs1": pkcs1} {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: p}}, Now: clk.now})
		if _, err := a.Authenticate(bearerReq(tok)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	privDER, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	bad := map[string]JWTOptions{
		"no keys":          {},
		"cookie and query": {Keys: []JWTKey{{Secret: k.secret}}, Cookie: "c", Query: "q"},
		"short secret":     {Keys: []JWTKey{{Secret: []byte("secret")}}},
		"HS512, 32 bytes":  {Keys: []JWTKey{{Secret: k.secret[:32], Algorithms: []string{"HS512"}}}},
		"secret and PEM":   {Keys: []JWTKey{{Secret: k.secret, PEM: pkcs1}}},
		"private key":      {Keys: []JWTKey{{PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})}}},
		"not PEM":          {Keys: []JWTKey{{PEM: []byte("hello")}}},
		"two blocks":       {Keys: []JWTKey{{PEM: append(append([]byte{}, pkcs1...), certPEM...)}}},
		"1024-bit RSA":     {Keys: []JWTKey{{PEM: pemOf(t, &small.PublicKey)}}},
		"ES256 on RSA":     {Keys: []JWTKey{{PEM: pkcs1, Algorithms: []string{"ES256"}}}},
		"HS256 on RSA":     {Keys: []JWTKey{{PEM: pkcs1, Algorithms: []string{"HS256"}}}},
		"none":             {Keys: []JWTKey{{PEM: pkcs1}}, Algorithms: []string{"none"}},
	}
	for name, o := range bad {
		if a, err := NewJWT(o); err == nil {
			a.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestJWTSources(t *testing.T) {
	k := keys()
	clk := newClock()
	tok := sign(t, "HS256", k.secret, "", jwt.MapClaims{"sub": "a", "exp": clk.now().Unix() + 60})
	key := []JWTKey{{Secret: k.secret}}

	t.Run("header", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: key, Now: clk.now})
		for v, want := range map[string]string{
			"Bearer " + tok: "ok", "bearer " + tok: "ok", "BEARER   " + tok + " ": "ok",
			"Basic YTpi": "none", "Bearer": "none", "Bearer ": "none", "": "none",
			"Bearer x.y.z": "bad", "Bearer " + tok + "x": "bad", "Bearer " + tok + " extra": "bad",
		} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if v != "" {
				r.Header.Set("Authorization", v)
			}
			if _, err := a.Authenticate(r); class(err) != want {
				t.Errorf("%q: %v, want %s", v, err, want)
			}
		}
		if got := a.Challenge(); got != `Bearer realm="Gatehouse"` {
			t.Errorf("challenge %s", got)
		}
		h := http.Header{"Authorization": {"Bearer " + tok}}
		a.StripHeader(h)
		if len(h) != 0 {
			t.Errorf("bearer token not stripped: %v", h)
		}
		h = http.Header{"Authorization": {"Basic YTpi"}}
		a.StripHeader(h)
		if h.Get("Authorization") == "" {
			t.Error("another scheme's credentials stripped")
		}
		fw := newTestJWT(t, JWTOptions{Keys: key, Now: clk.now, Forward: true})
		h = http.Header{"Authorization": {"Bearer " + tok}}
		fw.StripHeader(h)
		if h.Get("Authorization") == "" {
			t.Error("Forward: token stripped")
		}
		if a.SecretParam() != "" {
			t.Error("a header token has a secret parameter")
		}
	})
	t.Run("cookie", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: key, Now: clk.now, Cookie: "session"})
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", "theme=dark; session="+tok)
		r.Header.Set("Authorization", "Bearer ignored")
		if _, err := a.Authenticate(r); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Authenticate(bearerReq(tok)); class(err) != "none" {
			t.Errorf("bearer header read when the token is a cookie: %v", err)
		}
		h := r.Header.Clone()
		a.StripHeader(h)
		if h.Get("Cookie") != "theme=dark" || h.Get("Authorization") == "" {
			t.Errorf("stripped %v", h)
		}
	})
	t.Run("query", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: key, Now: clk.now, Query: "access_token"})
		r := httptest.NewRequest(http.MethodGet, "/x?a=1&access_token="+tok+"&b=%2F", nil)
		if _, err := a.Authenticate(r); err != nil {
			t.Fatal(err)
		}
		if a.SecretParam() != "access_token" {
			t.Errorf("secret param %q", a.SecretParam())
		}
		u := *r.URL
		a.StripURL(&u)
		if u.RawQuery != "a=1&b=%2F" {
			t.Errorf("stripped query %q", u.RawQuery)
		}
		fw := newTestJWT(t, JWTOptions{Keys: key, Now: clk.now, Query: "access_token", Forward: true})
		u = *r.URL
		fw.StripURL(&u)
		if u.RawQuery != r.URL.RawQuery || fw.SecretParam() != "access_token" {
			t.Errorf("Forward: %q, %q", u.RawQuery, fw.SecretParam())
		}
		var nilURL url.URL
		a.StripURL(&nilURL)
	})
}

func TestJWTClaims(t *testing.T) {
	k := keys()
	clk := newClock()
	a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{Secret: k.secret}}, Now: clk.now,
		RequireClaims: map[string][]string{"roles": {"admin", "ops"}, "tier": {"3"}, "email_verified": {"true"}}})
	exp := clk.now().Unix() + 60
	claims := jwt.MapClaims{
		"sub": "alice", "exp": exp, "scope": []string{"orders:read", "orders:write"},
		"roles": []any{"dev", "ops"}, "tier": 3, "ratio": 0.25, "email_verified": true,
		"big": jwt.MapClaims{"b": 1, "a": "<x>"}, "mixed": []any{"a", 1, true}, "gone": nil,
		"huge": 12345678901234567890.0,
	}
	tok := sign(t, "HS256", k.secret, "", claims)
	// An integer beyond int64, written by hand, is kept digit for digit.
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"sub":"alice"`, `"sub":"alice","id":123456789012345678901234567890`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	resigned, err := jwt.SigningMethodHS256.Sign(parts[0]+"."+parts[1], k.secret)
	if err != nil {
		t.Fatal(err)
	}
	tok = parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(resigned)

	id, err := a.Authenticate(bearerReq(tok))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sub": "alice", "exp": big.NewInt(exp).String(), "scope": "orders:read orders:write",
		"roles": "dev ops", "tier": "3", "ratio": "0.25", "email_verified": "true",
		"big": `{"a":"<x>","b":1}`, "mixed": `["a",1,true]`, "huge": "12345678901234567000",
		"id": "123456789012345678901234567890",
	}
	for name, v := range want {
		if id.Claims[name] != v {
			t.Errorf("claim %s = %q, want %q", name, id.Claims[name], v)
		}
	}
	if _, ok := id.Claims["gone"]; ok || len(id.Claims) != len(want) {
		t.Errorf("claims %v", id.Claims)
	}

	for name, c := range map[string]jwt.MapClaims{
		"role missing":   {"roles": []any{"dev"}},
		"roles a string": {"roles": "dev ops"},
		"tier 2":         {"tier": 2},
		"unverified":     {"email_verified": false},
	} {
		cl := jwt.MapClaims{}
		for k, v := range claims {
			cl[k] = v
		}
		for k, v := range c {
			cl[k] = v
		}
		if _, err := a.Authenticate(bearerReq(sign(t, "HS256", k.secret, "", cl))); class(err) != "forbidden" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// b64token reports whether s is an RFC 6750 b64token.
func b64token(s string) bool {
	t := strings.TrimRight(s, "=")
	if t == "" {
		return false
	}
	for _, c := range []byte(t) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer x", "Basic YTpi", "Bearer", "Bearer  a=", " Bearer\ta ", "BEARER \x00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tok, ok := bearer(v)
		if ok {
			if tok == "" || strings.Trim(tok, " \t") != tok || !strings.Contains(v, tok) {
				t.Fatalf("bearer(%q) = %q", v, tok)
			}
			if !strings.EqualFold(strings.TrimLeft(v, " \t")[:6], "bearer") {
				t.Fatalf("bearer(%q) accepted another scheme", v)
			}
		} else if tok != "" {
			t.Fatalf("bearer(%q) = %q but not ok", v, tok)
		}
		if b64token(v) {
			for _, h := range []string{"Bearer " + v, "bearer " + v, "BeArEr   " + v + " "} {
				if got, ok := bearer(h); !ok || got != v {
					t.Fatalf("bearer(%q) = %q, %v; want %q", h, got, ok, v)
				}
			}
		}
		// Whatever the header, Authenticate does not panic.
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{v}
		fuzzJWT(t).Authenticate(r)
	})
}

var fuzzJWT = func() func(testing.TB) *JWT {
	var once sync.Once
	var a *JWT
	return func(t testing.TB) *JWT {
		once.Do(func() {
			var err error
			if a, err = NewJWT(JWTOptions{Keys: []JWTKey{{Secret: make([]byte, 32)}}}); err != nil {
				t.Fatal(err)
			}
		})
		return a
	}
}()

func BenchmarkJWTVerify(b *testing.B) {
	k := keys()
	clk := newClock()
	claims := jwt.MapClaims{"sub": "alice", "iss": "https://idp.test", "aud": "orders",
		"iat": clk.now().Unix(), "exp": clk.now().Unix() + 300, "scope": "orders:read orders:write"}
	for _, alg := range []string{"RS256", "ES256", "EdDSA", "HS256"} {
		b.Run(alg, func(b *testing.B) {
			priv, _ := k.forAlg(alg)
			a := newTestJWT(b, JWTOptions{Keys: []JWTKey{k.staticFor(b, alg)}, Now: clk.now,
				Issuers: []string{"https://idp.test"}, Audiences: []string{"orders"},
				RequireClaims: map[string][]string{"scope": {"orders:write"}}, CacheFor: -1})
			r := bearerReq(sign(b, alg, priv, "kid-1", claims))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
