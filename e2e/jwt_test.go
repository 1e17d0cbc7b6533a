package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// testIDP is an identity provider's key set endpoint over loopback: its
// EC keys by kid, a switch to fail, and a count of fetches.
type testIDP struct {
	srv     *httptest.Server
	fetches atomic.Int32
	mu      sync.Mutex
	keys    map[string]*ecdsa.PrivateKey
	down    bool
}

func newTestIDP(t *testing.T) *testIDP {
	p := &testIDP{keys: map[string]*ecdsa.PrivateKey{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var set []map[string]string
		enc := base64.RawURLEncoding.EncodeToString
		for kid, k := range p.keys {
			b, _ := k.PublicKey.Bytes() // 0x04 || X || Y
			set = append(set, map[string]string{"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": enc(b[1:33]), "y": enc(b[33:])})
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=3600")
		json.NewEncoder(w).Encode(map[string]any{"keys": set})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// rotate adds a key under kid and returns it.
func (p *testIDP) rotate(kid string) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	p.mu.Lock()
	p.keys[kid] = k
	p.mu.Unlock()
	return k
}

func (p *testIDP) setDown(down bool) { p.mu.Lock(); p.down = down; p.mu.Unlock() }

func signed(t *testing.T, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJWTWired: a route authenticated by a jwt authenticator from the
// config, with a JWKS key set and a fixed PEM key, through the real
// server: who gets in (401 with the Bearer challenge, 403 for a missing
// scope), what the backend sees (identity and claims, never the token
// or a client's copy of the identity headers), the claim as a rate-limit
// key, a key rotation, and a reload that keeps the fetched set while the
// IdP is down.
func TestJWTWired(t *testing.T) {
	idp := newTestIDP(t)
	ec := idp.rotate("k1")
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	pemFile := filepath.Join(t.TempDir(), "rs256.pub.pem")
	os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)

	var hits atomic.Int64
	var seen sync.Map // path -> http.Header
	be := testkit.NewBackend(t, "api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		seen.Store(r.URL.Path, r.Header.Clone())
		w.Write([]byte("ok"))
	}))
	conf := func(note string) string {
		return `
# ` + note + `
authenticators:
  idp:
    jwt:
      realm: orders
      jwks: {url: "${IDP}/jwks.json", miss_interval: 1s}
      keys: [{file: "${PEM}", kid: rsa}]
      issuers: [https://idp.test/]
      audiences: [orders-api]
      require_claims: {scope: [orders:read]}
routes:
  - upstream: ${API}
    auth:
      use: [idp]
      claim_headers: {email: X-Auth-Email}
    rate_limit:
      - {name: per-user, key: "claim:sub", rate: 3/m}
`
	}
	g := testkit.Start(t, conf("first"), testkit.Vars{"API": be.URL, "IDP": idp.srv.URL, "PEM": pemFile})

	now := time.Now()
	claims := func(sub string, edit ...func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": sub, "iss": "https://idp.test/", "aud": "orders-api", "scope": "profile orders:read",
			"email": sub + "@example.com", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for _, e := range edit {
			e(c)
		}
		return c
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	for _, tc := range []struct {
		name   string
		header []string
		want   int
	}{
		{"no token", nil, 401},
		{"ES256 from the key set", bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("alice"))), 200},
		{"RS256 from the PEM file", bearer(signed(t, jwt.SigningMethodRS256, rk, "rsa", claims("bob"))), 200},
		{"wrong audience", bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("carol", func(c jwt.MapClaims) { c["aud"] = "other" }))), 401},
		{"wrong issuer", bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("carol", func(c jwt.MapClaims) { c["iss"] = "https://evil.test/" }))), 401},
		{"expired", bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("carol", func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }))), 401},
		{"no exp", bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("carol", func(c jwt.MapClaims) { delete(c, "exp") }))), 401},
		{"alg none", bearer(signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", claims("carol"))), 401},
		{"HS256 signed with the RSA public key", bearer(signed(t, jwt.SigningMethodHS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "rsa", claims("carol"))), 401},
		{"missing scope", bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("dave", func(c jwt.MapClaims) { c["scope"] = "profile" }))), 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			header := append([]string{"X-Auth-User", "admin", "X-Auth-Email", "root@example.com"}, tc.header...)
			res, _ := g.Do(g.NewRequest("GET", "/"+strings.ReplaceAll(tc.name, " ", "-"), nil, header...))
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if reached := hits.Load() != before; reached != (tc.want == 200) {
				t.Errorf("reached the backend: %v", reached)
			}
			// RFC 6750 3.1: no error code without a token, invalid_token
			// for a bad one, insufficient_scope on the 403.
			want := map[int]string{401: `Bearer realm="orders", error="invalid_token"`, 403: `Bearer realm="orders", error="insufficient_scope"`}[tc.want]
			if tc.header == nil {
				want = `Bearer realm="orders"`
			}
			if got := res.Header.Get("Www-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
		})
	}
	for path, user := range map[string]string{"/ES256-from-the-key-set": "alice", "/RS256-from-the-PEM-file": "bob"} {
		v, ok := seen.Load(path)
		if !ok {
			t.Fatalf("%s did not reach the backend", path)
		}
		h := v.(http.Header)
		if h.Get("X-Auth-User") != user || h.Get("X-Auth-Email") != user+"@example.com" || h.Get("Authorization") != "" {
			t.Errorf("%s: backend saw user %q, email %q, Authorization %q; want %s, its email, no token",
				path, h.Get("X-Auth-User"), h.Get("X-Auth-Email"), h.Get("Authorization"), user)
		}
	}

	// The sub claim keys the rate limit: alice has used 1 of 3.
	alice := bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("alice")))
	for i, want := range []int{200, 200, 429} {
		if res, _ := g.Do(g.NewRequest("GET", "/", nil, alice...)); res.StatusCode != want {
			t.Fatalf("alice's request %d: %d, want %d", i+2, res.StatusCode, want)
		}
	}
	if res, _ := g.Do(g.NewRequest("GET", "/", nil, bearer(signed(t, jwt.SigningMethodES256, ec, "k1", claims("erin")))...)); res.StatusCode != 200 {
		t.Errorf("another user after alice's 429: %d", res.StatusCode)
	}

	// Rotation: a token under a kid the set lacks fetches it again.
	fetched := idp.fetches.Load()
	k2 := idp.rotate("k2")
	if res, _ := g.Do(g.NewRequest("GET", "/", nil, bearer(signed(t, jwt.SigningMethodES256, k2, "k2", claims("frank")))...)); res.StatusCode != 200 {
		t.Fatalf("a token of the rotated-in key: %d", res.StatusCode)
	}
	if n := idp.fetches.Load(); n != fetched+1 {
		t.Errorf("%d fetches for the rotation, want 1", n-fetched)
	}

	// A reload with the same jwks settings keeps the set: nothing is
	// fetched, and tokens still verify while the IdP is down.
	idp.setDown(true)
	fetched = idp.fetches.Load()
	if err := g.Apply(conf("second")); err != nil {
		t.Fatal(err)
	}
	if res, _ := g.Do(g.NewRequest("GET", "/", nil, bearer(signed(t, jwt.SigningMethodES256, k2, "k2", claims("grace")))...)); res.StatusCode != 200 {
		t.Errorf("after a reload with the IdP down: %d, want 200 from the kept key set", res.StatusCode)
	}
	if n := idp.fetches.Load(); n != fetched {
		t.Errorf("the reload fetched the key set %d times, want 0", n-fetched)
	}
}
