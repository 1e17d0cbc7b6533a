package auth

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestVerifiedTokens: a token that verified is answered again without a
// signature check (it then costs next to no allocations), until its exp
// (with the leeway) or CacheFor, whichever is sooner; per-request checks
// (cross-origin cookies) still apply to a remembered token.
func TestVerifiedTokens(t *testing.T) {
	k := keys()
	clk := newClock()
	a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.ec256.PublicKey)}}, Now: clk.now, Leeway: -1, CacheFor: time.Hour})
	c := claimsAt(clk)
	c["exp"] = clk.now().Unix() + 30
	tok := sign(t, "ES256", k.ec256, "", c)
	r := bearerReq(tok)
	if _, err := a.Authenticate(r); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() { a.Authenticate(r) }); n > 2 {
		t.Errorf("a remembered token costs %v allocations; the signature check was done again", n)
	}
	uncached := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.ec256.PublicKey)}}, Now: clk.now, CacheFor: -1})
	if n := testing.AllocsPerRun(20, func() { uncached.Authenticate(r) }); n < 20 {
		t.Errorf("with CacheFor negative a token costs only %v allocations: still remembered?", n)
	}
	clk.add(31 * time.Second)
	if _, err := a.Authenticate(r); class(err) != "bad" {
		t.Errorf("past its exp a remembered token gave %v, want bad credentials", err)
	}

	short := newTestJWT(t, JWTOptions{Keys: []JWTKey{{Secret: k.secret}}, Now: clk.now, CacheFor: time.Second})
	tok = sign(t, "HS256", k.secret, "", claimsAt(clk))
	short.Authenticate(bearerReq(tok))
	if _, _, ok := short.seen.get(tok, clk.now(), nil); !ok {
		t.Fatal("a verified token was not remembered")
	}
	if _, _, ok := short.seen.get(tok, clk.now().Add(time.Second), nil); ok {
		t.Error("remembered past CacheFor")
	}

	cookie := newTestJWT(t, JWTOptions{Keys: []JWTKey{{Secret: k.secret}}, Now: clk.now, Cookie: "s"})
	post := func(site string) error {
		r := httptest.NewRequest(http.MethodPost, "http://api.example/", nil)
		r.AddCookie(&http.Cookie{Name: "s", Value: tok})
		r.Header.Set("Sec-Fetch-Site", site)
		_, err := cookie.Authenticate(r)
		return err
	}
	if err := post("same-origin"); err != nil {
		t.Fatal(err)
	}
	if err := post("cross-site"); class(err) != "forbidden" {
		t.Errorf("a remembered cookie token on a cross-site POST: %v, want forbidden", err)
	}
}

// TestVerifiedBounded: the tokens remembered stay within maxVerified.
func TestVerifiedBounded(t *testing.T) {
	v := newVerified(time.Hour)
	now := time.Now()
	for i := range 3 * maxVerified {
		v.put(sha256.Sum256([]byte(strconv.Itoa(i))), nil, now, time.Time{}, nil)
	}
	n := 0
	for i := range v.shards {
		n += len(v.shards[i].m)
	}
	if n > maxVerified || n < maxVerified/4 {
		t.Errorf("%d tokens remembered, want at most %d (and not nearly none)", n, maxVerified)
	}
}
