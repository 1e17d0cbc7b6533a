package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// idp serves a JSON Web Key Set over loopback and counts its fetches.
type idp struct {
	srv     *httptest.Server
	fetches atomic.Int32
	mu      sync.Mutex
	keys    []map[string]any
	cc      string // Cache-Control
	status  int
	hold    chan struct{} // a fetch waits for it to close, when set
}

func newIDP(t *testing.T, keys ...map[string]any) *idp {
	p := &idp{keys: keys, status: http.StatusOK}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		hold, status, cc := p.hold, p.status, p.cc
		body, _ := json.Marshal(map[string]any{"keys": p.keys})
		p.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) serve(keys ...map[string]any) {
	p.mu.Lock()
	p.keys = keys
	p.mu.Unlock()
}

func (p *idp) set(f func(p *idp)) {
	p.mu.Lock()
	f(p)
	p.mu.Unlock()
}

func jwkOf(kid string, pub any) map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	k := map[string]any{"kid": kid, "use": "sig"}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k["kty"], k["n"], k["e"] = "RSA", enc(p.N.Bytes()), enc(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		b, err := p.Bytes()
		if err != nil {
			panic(err)
		}
		size := (len(b) - 1) / 2
		k["kty"], k["crv"], k["x"], k["y"] = "EC", p.Curve.Params().Name, enc(b[1:1+size]), enc(b[1+size:])
	case ed25519.PublicKey:
		k["kty"], k["crv"], k["x"] = "OKP", "Ed25519", enc(p)
	}
	return k
}

// jwksJWT is a JWT method on p's key set, on clk, closed (and checked
// for a leaked fetcher) when the test ends.
func jwksJWT(t *testing.T, p *idp, clk *clock, o JWTOptions) *JWT {
	t.Helper()
	o.JWKS.URL = p.srv.URL + "/.well-known/jwks.json"
	o.Now = clk.now
	a, err := NewJWT(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		noFetchers(t, a)
	})
	return a
}

// noFetchers fails t if a's key set fetcher is still running (its
// goroutine's stack names the receiver).
func noFetchers(t *testing.T, a *JWT) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	frame := fmt.Sprintf("auth.(*jwks).run(%p", a.jwks)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, frame) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a key set fetcher outlived Close:\n%s", stacks)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func claimsAt(clk *clock) jwt.MapClaims {
	return jwt.MapClaims{"sub": "alice", "iat": clk.now().Unix(), "exp": clk.now().Unix() + 3600}
}

// TestJWKSAlgorithms verifies a token of every asymmetric algorithm
// against the key set's key for it, by kid and without one.
func TestJWKSAlgorithms(t *testing.T) {
	k := keys()
	clk := newClock()
	p := newIDP(t, jwkOf("rsa", &k.rsa.PublicKey), jwkOf("p256", &k.ec256.PublicKey),
		jwkOf("p384", &k.ec384.PublicKey), jwkOf("p521", &k.ec521.PublicKey), jwkOf("ed", k.ed.Public()))
	a := jwksJWT(t, p, clk, JWTOptions{})
	kids := map[string]string{"RS": "rsa", "PS": "rsa", "ES256": "p256", "ES384": "p384", "ES512": "p521", "EdDSA": "ed"}
	for _, alg := range algs[3:] {
		kid := kids[alg]
		if kid == "" {
			kid = kids[alg[:2]]
		}
		priv, _ := k.forAlg(alg)
		for _, tokKid := range []string{kid, ""} {
			if _, err := a.Authenticate(bearerReq(sign(t, alg, priv, tokKid, claimsAt(clk)))); err != nil {
				t.Errorf("%s kid %q: %v", alg, tokKid, err)
			}
		}
		// The key set's EC key of another curve, under its kid.
		if alg == "ES384" {
			tok := sign(t, alg, priv, "p256", claimsAt(clk))
			if _, err := a.Authenticate(bearerReq(tok)); class(err) != "bad" {
				t.Errorf("ES384 under the P-256 kid: %v", err)
			}
		}
	}
	// An HMAC token signed with a key set key's public bytes.
	tok := sign(t, "HS256", pemOf(t, &k.rsa.PublicKey), "rsa", claimsAt(clk))
	if _, err := a.Authenticate(bearerReq(tok)); class(err) != "bad" {
		t.Errorf("HS256 against the key set's RSA key: %v", err)
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// TestJWKSUnknownKid: an unknown kid fetches the set again, once per
// MissInterval however many tokens carry unknown kids.
func TestJWKSUnknownKid(t *testing.T) {
	k := keys()
	clk := newClock()
	p := newIDP(t, jwkOf("k1", &k.rsa.PublicKey))
	a := jwksJWT(t, p, clk, JWTOptions{})
	if _, err := a.Authenticate(bearerReq(sign(t, "RS256", k.rsa, "k1", claimsAt(clk)))); err != nil {
		t.Fatal(err)
	}
	// The IdP rotates in k2; its first token makes the one refetch.
	p.serve(jwkOf("k1", &k.rsa.PublicKey), jwkOf("k2", &k.rsa2.PublicKey))
	if _, err := a.Authenticate(bearerReq(sign(t, "RS256", k.rsa2, "k2", claimsAt(clk)))); err != nil {
		t.Fatalf("rotated-in key: %v", err)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after one unknown kid, want 2", n)
	}

	flood := func() {
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				tok := sign(t, "RS256", k.rsa, fmt.Sprintf("bogus-%d", i), claimsAt(clk))
				if _, err := a.Authenticate(bearerReq(tok)); class(err) != "bad" {
					t.Errorf("bogus kid: %v", err)
				}
			})
		}
		wg.Wait()
	}
	flood() // within the window of the k2 refetch: no fetch at all
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after a flood within the window, want 2", n)
	}
	clk.add(31 * time.Second)
	flood() // a new window: one fetch for all of them
	if n := p.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches after a flood in a new window, want 3", n)
	}
	// Known kids are never held up by the window.
	if _, err := a.Authenticate(bearerReq(sign(t, "RS256", k.rsa, "k1", claimsAt(clk)))); err != nil {
		t.Fatal(err)
	}
}

// TestJWKSRotation: keys rotated out stop verifying once the set is
// fetched again, by an unknown kid or by its max-age.
func TestJWKSRotation(t *testing.T) {
	k := keys()
	clk := newClock()
	p := newIDP(t, jwkOf("k1", &k.rsa.PublicKey))
	p.set(func(p *idp) { p.cc = "public, max-age=300" })
	a := jwksJWT(t, p, clk, JWTOptions{})
	tok1 := sign(t, "RS256", k.rsa, "k1", claimsAt(clk))
	tok2 := sign(t, "ES256", k.ec256, "k2", claimsAt(clk))
	if _, err := a.Authenticate(bearerReq(tok1)); err != nil {
		t.Fatal(err)
	}
	p.serve(jwkOf("k2", &k.ec256.PublicKey))
	if _, err := a.Authenticate(bearerReq(tok2)); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if _, err := a.Authenticate(bearerReq(tok1)); class(err) != "bad" {
		t.Fatalf("rotated-out key still verifies: %v", err)
	}

	// Rotation found by max-age: the stale set serves while a fetch runs.
	p.serve(jwkOf("k3", k.ed.Public()))
	clk.add(301 * time.Second)
	if _, err := a.Authenticate(bearerReq(tok2)); err != nil {
		t.Fatalf("stale set not used meanwhile: %v", err)
	}
	eventually(t, "the max-age refresh", func() bool { return len(a.jwks.set.Load().find("k3")) == 1 })
	if n := p.fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
	tok3 := sign(t, "EdDSA", k.ed, "k3", claimsAt(clk))
	if _, err := a.Authenticate(bearerReq(tok3)); err != nil {
		t.Fatal(err)
	}
}

// TestJWKSMaxAge: the set is fetched again when its max-age (bounded)
// has passed by the clock, not before.
func TestJWKSMaxAge(t *testing.T) {
	k := keys()
	for _, c := range []struct {
		cc  string
		ttl time.Duration
	}{
		{"max-age=120", 2 * time.Minute},
		{"", 10 * time.Minute},
		{"max-age=5", time.Minute},
		{"no-cache", time.Minute},
		{"max-age=9999999", 24 * time.Hour},
	} {
		t.Run(c.cc, func(t *testing.T) {
			clk := newClock()
			p := newIDP(t, jwkOf("k1", &k.rsa.PublicKey))
			p.set(func(p *idp) { p.cc = c.cc })
			a := jwksJWT(t, p, clk, JWTOptions{ExpOptional: true})
			tok := sign(t, "RS256", k.rsa, "k1", jwt.MapClaims{"sub": "a"})
			try := func() {
				t.Helper()
				if _, err := a.Authenticate(bearerReq(tok)); err != nil {
					t.Fatal(err)
				}
			}
			try()
			clk.add(c.ttl - time.Second)
			try()
			time.Sleep(30 * time.Millisecond)
			if n := p.fetches.Load(); n != 1 {
				t.Fatalf("%d fetches a second before max-age, want 1", n)
			}
			clk.add(2 * time.Second)
			for range 20 { // many stale requests, one fetch
				try()
			}
			eventually(t, "the refresh", func() bool { return p.fetches.Load() == 2 })
			time.Sleep(30 * time.Millisecond)
			if n := p.fetches.Load(); n != 2 {
				t.Fatalf("%d fetches for one expiry, want 2", n)
			}
		})
	}
}

func TestJWKSTTL(t *testing.T) {
	j := &jwks{o: JWKSOptions{Refresh: 10 * time.Minute, MinRefresh: time.Minute, MaxRefresh: 24 * time.Hour}}
	for _, c := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{}, 10 * time.Minute},
		{http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{http.Header{"Cache-Control": {"Max-Age=3600"}, "Age": {"600"}}, 50 * time.Minute},
		{http.Header{"Cache-Control": {"max-age=100"}, "Age": {"500"}}, time.Minute},
		{http.Header{"Cache-Control": {"max-age=junk"}}, 10 * time.Minute},
		{http.Header{"Cache-Control": {"no-store"}}, time.Minute},
		{http.Header{"Cache-Control": {"public", "max-age=7200"}}, 2 * time.Hour},
		{http.Header{"Cache-Control": {"max-age=999999999999"}}, 24 * time.Hour},
	} {
		if got := j.ttl(c.h); got != c.want {
			t.Errorf("%v: %v, want %v", c.h, got, c.want)
		}
	}
}

// syncBuffer is a log destination the race detector accepts.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestJWKSDown: when the IdP fails after a good fetch, the last good
// set keeps verifying and a warning is logged.
func TestJWKSDown(t *testing.T) {
	k := keys()
	clk := newClock()
	p := newIDP(t, jwkOf("k1", &k.rsa.PublicKey))
	var logs syncBuffer
	a := jwksJWT(t, p, clk, JWTOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	tok := sign(t, "RS256", k.rsa, "k1", claimsAt(clk))
	if _, err := a.Authenticate(bearerReq(tok)); err != nil {
		t.Fatal(err)
	}
	p.set(func(p *idp) { p.status = http.StatusServiceUnavailable })
	clk.add(11 * time.Minute)
	if _, err := a.Authenticate(bearerReq(tok)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a failed fetch", func() bool { return strings.Contains(logs.String(), "503") })
	if _, err := a.Authenticate(bearerReq(tok)); err != nil {
		t.Fatalf("after a failed fetch: %v", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no warning: %s", logs.String())
	}

	// Gone altogether, and an unknown kid asking for it.
	p.srv.Close()
	clk.add(time.Hour)
	unknown := sign(t, "RS256", k.rsa, "k9", claimsAt(clk))
	if _, err := a.Authenticate(bearerReq(unknown)); class(err) != "bad" {
		t.Fatalf("unknown kid with the IdP down: %v", err)
	}
	if _, err := a.Authenticate(bearerReq(sign(t, "RS256", k.rsa, "k1", claimsAt(clk)))); err != nil {
		t.Fatalf("with the IdP gone: %v", err)
	}
}

// TestJWKSFirstFetch: before a set has been fetched, a token waits at
// most Wait (or its context) and is refused with a clear error.
func TestJWKSFirstFetch(t *testing.T) {
	k := keys()
	tok := func(clk *clock) *http.Request { return bearerReq(sign(t, "RS256", k.rsa, "k1", claimsAt(clk))) }

	t.Run("slow", func(t *testing.T) {
		clk := newClock()
		p := newIDP(t, jwkOf("k1", &k.rsa.PublicKey))
		hold := make(chan struct{})
		p.set(func(p *idp) { p.hold = hold })
		a := jwksJWT(t, p, clk, JWTOptions{JWKS: JWKSOptions{Wait: 500 * time.Millisecond}})
		start := time.Now()
		_, err := a.Authenticate(tok(clk))
		if class(err) != "bad" || !strings.Contains(err.Error(), "not loaded yet") {
			t.Fatalf("before the first fetch: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("waited %v", d)
		}
		// A request's own context ends its wait sooner.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		start = time.Now()
		if _, err := a.Authenticate(tok(clk).WithContext(ctx)); class(err) != "bad" {
			t.Fatalf("cancelled: %v", err)
		}
		if d := time.Since(start); d > 400*time.Millisecond {
			t.Errorf("waited %v past the request's context", d)
		}
		close(hold)
		eventually(t, "the first fetch", func() bool { _, err := a.Authenticate(tok(clk)); return err == nil })
	})
	t.Run("waits for a quick one", func(t *testing.T) {
		clk := newClock()
		p := newIDP(t, jwkOf("k1", &k.rsa.PublicKey))
		a := jwksJWT(t, p, clk, JWTOptions{})
		if _, err := a.Authenticate(tok(clk)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("failing", func(t *testing.T) {
		clk := newClock()
		p := newIDP(t)
		p.set(func(p *idp) { p.status = http.StatusInternalServerError })
		a := jwksJWT(t, p, clk, JWTOptions{})
		_, err := a.Authenticate(tok(clk))
		if class(err) != "bad" || !strings.Contains(err.Error(), "500") {
			t.Fatalf("IdP failing: %v", err)
		}
		start := time.Now()
		if _, err := a.Authenticate(tok(clk)); class(err) != "bad" || time.Since(start) > 50*time.Millisecond {
			t.Fatalf("a second request waited %v: %v", time.Since(start), err)
		}
	})
}

// TestJWKSParse: what a key set may hold.
func TestJWKSParse(t *testing.T) {
	k := keys()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	withs := func(m map[string]any, kv ...any) map[string]any {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	rsaJWK := jwkOf("r", &k.rsa.PublicKey)
	ecJWK := jwkOf("e", &k.ec256.PublicKey)
	offCurve := withs(ecJWK, "y", ecJWK["x"])
	for name, c := range map[string]struct {
		jwk  map[string]any
		algs string // "" for refused
	}{
		"rsa":                 {rsaJWK, "RS256 RS384 RS512 PS256 PS384 PS512"},
		"rsa pinned":          {withs(rsaJWK, "alg", "PS384"), "PS384"},
		"rsa, no use":         {withs(rsaJWK, "use", nil), "RS256 RS384 RS512 PS256 PS384 PS512"},
		"rsa padded":          {withs(rsaJWK, "e", "AQAB=="), "RS256 RS384 RS512 PS256 PS384 PS512"},
		"ec":                  {ecJWK, "ES256"},
		"ed25519":             {jwkOf("d", k.ed.Public()), "EdDSA"},
		"for encryption":      {withs(rsaJWK, "use", "enc"), ""},
		"key_ops encrypt":     {withs(rsaJWK, "key_ops", []string{"encrypt"}), ""},
		"rsa pinned to ES256": {withs(rsaJWK, "alg", "ES256"), ""},
		"rsa pinned to HS256": {withs(rsaJWK, "alg", "HS256"), ""},
		"pinned to none":      {withs(rsaJWK, "alg", "none"), ""},
		"1024-bit rsa":        {jwkOf("s", &small.PublicKey), ""},
		"rsa exponent 1":      {withs(rsaJWK, "e", "AQ"), ""},
		"ec off the curve":    {offCurve, ""},
		"ec short x":          {withs(ecJWK, "x", "AAAA"), ""},
		"ec P-224":            {withs(ecJWK, "crv", "P-224"), ""},
		"oct":                 {map[string]any{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(k.secret)}, ""},
		"X25519":              {withs(jwkOf("d", k.ed.Public()), "crv", "X25519"), ""},
		"unknown kty":         {map[string]any{"kty": "PQ"}, ""},
	} {
		raw, _ := json.Marshal(c.jwk)
		vk, err := parseJWK(raw)
		switch {
		case c.algs == "" && err == nil:
			t.Errorf("%s: accepted for %v", name, vk.algs)
		case c.algs != "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case err == nil && strings.Join(vk.algs, " ") != c.algs:
			t.Errorf("%s: algorithms %v, want %s", name, vk.algs, c.algs)
		}
	}

	// A set with nothing usable is a failed fetch; a key pinned to RS256
	// does not verify PS256.
	clk := newClock()
	p := newIDP(t, map[string]any{"kty": "oct", "k": "c2VjcmV0"}, withs(rsaJWK, "use", "enc"))
	a := jwksJWT(t, p, clk, JWTOptions{})
	if _, err := a.Authenticate(bearerReq(sign(t, "RS256", k.rsa, "r", claimsAt(clk)))); class(err) != "bad" ||
		!strings.Contains(err.Error(), "no usable signature keys") {
		t.Errorf("unusable set: %v", err)
	}
	p2 := newIDP(t, withs(rsaJWK, "alg", "RS256"))
	a2 := jwksJWT(t, p2, clk, JWTOptions{})
	if _, err := a2.Authenticate(bearerReq(sign(t, "PS256", k.rsa, "r", claimsAt(clk)))); class(err) != "bad" {
		t.Errorf("PS256 against a key pinned to RS256: %v", err)
	}
	if _, err := a2.Authenticate(bearerReq(sign(t, "RS256", k.rsa, "r", claimsAt(clk)))); err != nil {
		t.Error(err)
	}
}

// TestJWKSWithStaticKeys: fixed keys are checked first; a kid they have
// never reaches the key set.
func TestJWKSWithStaticKeys(t *testing.T) {
	k := keys()
	clk := newClock()
	p := newIDP(t, jwkOf("remote", &k.rsa.PublicKey))
	a := jwksJWT(t, p, clk, JWTOptions{Keys: []JWTKey{{ID: "local", Secret: k.secret}}})
	for _, tok := range []string{
		sign(t, "HS256", k.secret, "local", claimsAt(clk)),
		sign(t, "RS256", k.rsa, "remote", claimsAt(clk)),
		sign(t, "RS256", k.rsa, "", claimsAt(clk)),
	} {
		if _, err := a.Authenticate(bearerReq(tok)); err != nil {
			t.Error(err)
		}
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// TestJWKSClose: Close ends the fetcher, even mid-fetch, and may be
// called again.
func TestJWKSClose(t *testing.T) {
	p := newIDP(t)
	hold := make(chan struct{})
	defer close(hold)
	p.set(func(p *idp) { p.hold = hold })
	a, err := NewJWT(JWTOptions{JWKS: JWKSOptions{URL: p.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first fetch to start", func() bool { return p.fetches.Load() == 1 })
	done := make(chan struct{})
	go func() {
		a.Close()
		a.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close blocked on a fetch in flight")
	}
	noFetchers(t, a)
	if _, err := a.Authenticate(bearerReq("a.b.c")); class(err) != "bad" {
		t.Errorf("after Close: %v", err)
	}
}

// TestSharedKeySet: JWT methods on one KeySet share its fetches; closing
// a method leaves the set running (the next runtime's method still
// verifies without fetching again); closing the set ends the fetcher.
func TestSharedKeySet(t *testing.T) {
	k := keys()
	clk := newClock()
	p := newIDP(t, jwkOf("p256", &k.ec256.PublicKey))
	ks, err := NewKeySet(JWKSOptions{URL: p.srv.URL}, clk.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckJWT(JWTOptions{KeySet: ks, JWKS: JWKSOptions{URL: p.srv.URL}}); err == nil {
		t.Error("a shared key set and a JWKS URL together were accepted")
	}
	tok := sign(t, "ES256", k.ec256, "p256", claimsAt(clk))
	old, err := NewJWT(JWTOptions{KeySet: ks, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Authenticate(bearerReq(tok)); err != nil {
		t.Fatalf("first method: %v", err)
	}
	old.Close()
	next, err := NewJWT(JWTOptions{KeySet: ks, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	p.set(func(p *idp) { p.status = http.StatusServiceUnavailable })
	if _, err := next.Authenticate(bearerReq(tok)); err != nil {
		t.Fatalf("the method after the first closed: %v", err)
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d fetches for two methods on one set, want 1", n)
	}
	ks.Close()
	ks.Close()
	noFetchers(t, next)
}

// FuzzJWK: whatever an IdP serves, parsing a key does not panic, and a
// key it accepts verifies only algorithms of its own kind (an IdP's
// "alg" cannot make an EC key verify HS256).
func FuzzJWK(f *testing.F) {
	k := keys()
	for _, pub := range []any{&k.rsa.PublicKey, &k.ec256.PublicKey, &k.ec384.PublicKey, k.ed.Public()} {
		b, _ := json.Marshal(jwkOf("k", pub))
		f.Add(b)
	}
	for _, s := range []string{`{"kty":"oct","k":"c2VjcmV0"}`, `{"kty":"EC","crv":"P-256","x":"","y":""}`, `{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"HS256"}`,
		`{"kty":"EC","crv":"P-256","alg":"HS256","x":"AA","y":"AA"}`, `{"kty":"OKP","crv":"X25519","x":"AA"}`, `{"use":"enc"}`, `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		vk, err := parseJWK(raw)
		if err != nil {
			return
		}
		var kind []string
		switch vk.key.(type) {
		case *rsa.PublicKey:
			kind = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
		case *ecdsa.PublicKey:
			kind = []string{"ES256", "ES384", "ES512"}
		case ed25519.PublicKey:
			kind = []string{"EdDSA"}
		default:
			t.Fatalf("a JWK became a %T key", vk.key)
		}
		if len(vk.algs) == 0 {
			t.Fatalf("an accepted key verifies nothing: %s", raw)
		}
		for _, alg := range vk.algs {
			if !slices.Contains(kind, alg) {
				t.Fatalf("a %T key may verify %s: %s", vk.key, alg, raw)
			}
		}
	})
}
