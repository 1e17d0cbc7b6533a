package auth

// Test cases named after the requirements of RFC 7519 (JWT), RFC 7515
// (JWS), RFC 7517 (JWK), RFC 7518 (JWA), RFC 8037 (EdDSA) and RFC 8725
// (JWT BCP) that a verifier has; requirements.md lists them by section.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/golang-jwt/jwt/v5"
)

// rawToken builds a compact JWS from header and payload exactly as given
// (no re-encoding, so a test can send what no library would produce),
// signed with alg by priv.
func rawToken(t testing.TB, alg string, priv any, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(header)) + "." + enc([]byte(payload))
	sig, err := jwt.GetSigningMethod(alg).Sign(input, priv)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return input + "." + enc(sig)
}

// hsToken is rawToken with HS256 and the test secret.
func hsToken(t testing.TB, header, payload string) string {
	return rawToken(t, "HS256", keys().secret, header, payload)
}

// hsJWT is a JWT method checking the test secret on clk, changed by mod.
func hsJWT(t testing.TB, clk *clock, mod func(*JWTOptions)) *JWT {
	t.Helper()
	o := JWTOptions{Keys: []JWTKey{{Secret: keys().secret}}, Now: clk.now}
	if mod != nil {
		mod(&o)
	}
	return newTestJWT(t, o)
}

// expect fails t unless a's verdict on tok is want ("ok", "bad",
// "forbidden", "none").
func expect(t *testing.T, a *JWT, tok, want string) {
	t.Helper()
	if _, err := a.Authenticate(bearerReq(tok)); class(err) != want {
		t.Errorf("%.60s...: %v, want %s", tok, err, want)
	}
}

// resign replaces tok's signature by what sig makes of it.
func resign(t testing.TB, tok string, sig func([]byte) []byte) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig(raw))
}

func TestRFC7519(t *testing.T) {
	k := keys()
	clk := newClock()
	now := clk.now().Unix()
	hdr := `{"alg":"HS256","typ":"JWT"}`
	body := func(extra string) string { return fmt.Sprintf(`{"sub":"alice","exp":%d%s}`, now+300, extra) }
	issuers := func(o *JWTOptions) { o.Issuers = []string{"https://idp.test"} }
	audiences := func(o *JWTOptions) { o.Audiences = []string{"orders"} }
	noLeeway := func(o *JWTOptions) { o.Leeway = -1 }

	t.Run("7519 4 duplicate claim names: the lexically last is used", func(t *testing.T) {
		id, err := hsJWT(t, clk, nil).Authenticate(bearerReq(hsToken(t, hdr, body(`,"sub":"mallory"`))))
		if err != nil || id.User != "mallory" {
			t.Fatalf("%v, %v; want the last sub, mallory", id, err)
		}
	})
	t.Run("7519 4 claims not understood are ignored", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, hdr, body(`,"x-tenant":{"id":[1,2]},"https://idp.test/roles":["a"]`)), "ok")
	})
	t.Run("7519 4.1.1 iss is compared case-sensitively", func(t *testing.T) {
		a := hsJWT(t, clk, issuers)
		expect(t, a, hsToken(t, hdr, body(`,"iss":"https://idp.test"`)), "ok")
		expect(t, a, hsToken(t, hdr, body(`,"iss":"https://IDP.test"`)), "bad")
	})
	t.Run("7519 4.1.1 an iss that is not a string is refused", func(t *testing.T) {
		for _, a := range []*JWT{hsJWT(t, clk, issuers), hsJWT(t, clk, nil)} {
			expect(t, a, hsToken(t, hdr, body(`,"iss":["https://idp.test"]`)), "bad")
			expect(t, a, hsToken(t, hdr, body(`,"iss":7`)), "bad")
		}
	})
	t.Run("7519 4.1.2 a sub that is not a string is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, sub := range []string{`["alice"]`, `42`, `true`, `{"name":"alice"}`} {
			expect(t, a, hsToken(t, hdr, fmt.Sprintf(`{"sub":%s,"exp":%d}`, sub, now+300)), "bad")
		}
	})
	t.Run("7519 4.1.2 the subject is the identity, case kept", func(t *testing.T) {
		id, err := hsJWT(t, clk, nil).Authenticate(bearerReq(hsToken(t, hdr, fmt.Sprintf(`{"sub":"Alice@Example","exp":%d}`, now+300))))
		if err != nil || id.User != "Alice@Example" {
			t.Fatalf("%v, %v", id, err)
		}
	})
	t.Run("7519 4.1.3 aud is compared case-sensitively", func(t *testing.T) {
		a := hsJWT(t, clk, audiences)
		expect(t, a, hsToken(t, hdr, body(`,"aud":"orders"`)), "ok")
		expect(t, a, hsToken(t, hdr, body(`,"aud":"Orders"`)), "bad")
	})
	t.Run("7519 4.1.3 one member of an aud array must be the audience", func(t *testing.T) {
		a := hsJWT(t, clk, audiences)
		expect(t, a, hsToken(t, hdr, body(`,"aud":["billing","orders"]`)), "ok")
		expect(t, a, hsToken(t, hdr, body(`,"aud":["billing"]`)), "bad")
		expect(t, a, hsToken(t, hdr, body(`,"aud":[]`)), "bad")
	})
	t.Run("7519 4.1.3 a token with aud is refused by an authenticator naming no audience", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, hdr, body(`,"aud":"orders"`)), "bad")
		expect(t, a, hsToken(t, hdr, body(``)), "ok") // no aud: nothing to identify with
	})
	t.Run("7519 4.1.3 an aud that is not a string or an array of strings is refused", func(t *testing.T) {
		for _, a := range []*JWT{hsJWT(t, clk, audiences), hsJWT(t, clk, nil)} {
			expect(t, a, hsToken(t, hdr, body(`,"aud":5`)), "bad")
			expect(t, a, hsToken(t, hdr, body(`,"aud":["orders",5]`)), "bad")
			expect(t, a, hsToken(t, hdr, body(`,"aud":{"orders":true}`)), "bad")
		}
	})
	t.Run("7519 4.1.4 a token is refused from its exp instant on", func(t *testing.T) {
		a := hsJWT(t, clk, noLeeway)
		expect(t, a, hsToken(t, hdr, fmt.Sprintf(`{"sub":"a","exp":%d}`, now)), "bad")
		expect(t, a, hsToken(t, hdr, fmt.Sprintf(`{"sub":"a","exp":%d}`, now+1)), "ok")
	})
	t.Run("7519 4.1.4 the leeway for clock skew is small", func(t *testing.T) {
		a := hsJWT(t, clk, nil) // the default, 30 s
		expect(t, a, hsToken(t, hdr, fmt.Sprintf(`{"sub":"a","exp":%d}`, now-29)), "ok")
		expect(t, a, hsToken(t, hdr, fmt.Sprintf(`{"sub":"a","exp":%d}`, now-31)), "bad")
	})
	t.Run("7519 4.1.4 exp must be a NumericDate", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, exp := range []string{`"tomorrow"`, `true`, `null`, `[1]`} {
			expect(t, a, hsToken(t, hdr, `{"sub":"a","exp":`+exp+`}`), "bad")
		}
		expect(t, a, hsToken(t, hdr, fmt.Sprintf(`{"sub":"a","exp":%d.5}`, now+60)), "ok")
	})
	t.Run("7519 4.1.4 a token without exp is refused unless exp is optional", func(t *testing.T) {
		tok := hsToken(t, hdr, `{"sub":"a"}`)
		expect(t, hsJWT(t, clk, nil), tok, "bad")
		expect(t, hsJWT(t, clk, func(o *JWTOptions) { o.ExpOptional = true }), tok, "ok")
	})
	t.Run("7519 4.1.5 a token is accepted from its nbf instant on", func(t *testing.T) {
		a := hsJWT(t, clk, noLeeway)
		expect(t, a, hsToken(t, hdr, body(fmt.Sprintf(`,"nbf":%d`, now))), "ok")
		expect(t, a, hsToken(t, hdr, body(fmt.Sprintf(`,"nbf":%d`, now+1))), "bad")
	})
	t.Run("7519 4.1.5 nbf must be a NumericDate", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, hdr, body(`,"nbf":"later"`)), "bad")
	})
	t.Run("7519 4.1.6 a token issued in the future is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, hdr, body(fmt.Sprintf(`,"iat":%d`, now+60))), "bad")
		expect(t, a, hsToken(t, hdr, body(fmt.Sprintf(`,"iat":%d`, now+20))), "ok")
	})
	t.Run("7519 4.1.6 iat must be a NumericDate", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, hdr, body(`,"iat":"now"`)), "bad")
	})
	t.Run("7519 4.1.7 a jti that is not a string is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, hdr, body(`,"jti":"abc-1"`)), "ok")
		expect(t, a, hsToken(t, hdr, body(`,"jti":7`)), "bad")
	})
	t.Run("7519 5.2 a nested JWT (cty JWT) is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		inner := hsToken(t, hdr, body(""))
		expect(t, a, hsToken(t, `{"alg":"HS256","cty":"JWT"}`, inner), "bad")
		// Even when the payload happens to be a claims set: cty says it
		// is not one.
		expect(t, a, hsToken(t, `{"alg":"HS256","cty":"jwt"}`, body("")), "bad")
	})
	t.Run("7519 7.2 a token has exactly two periods", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		good := hsToken(t, hdr, body(""))
		for _, tok := range []string{"abc", "a.b", strings.Replace(good, ".", "", 1), good + ".x.y", "a.b.c.d.e"} {
			expect(t, a, tok, "bad")
		}
	})
	t.Run("7519 7.2 the header must be a JSON object", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, h := range []string{`["HS256"]`, `"HS256"`, `{"alg":"HS256"`, `null`} {
			expect(t, a, hsToken(t, h, body("")), "bad")
		}
	})
	t.Run("7519 7.2 the claims set must be a JSON object", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.ExpOptional = true })
		for _, p := range []string{`["sub"]`, `"alice"`, `42`, `null`, `{"sub":"alice"`} {
			expect(t, a, hsToken(t, hdr, p), "bad")
		}
	})
	t.Run("7519 7.2 the claims set must be UTF-8", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, hdr, fmt.Sprintf(`{"sub":"al`+"\xff"+`ice","exp":%d}`, now+300)), "bad")
	})
	t.Run("7519 7.2 the header must be UTF-8", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, `{"alg":"HS256","x":"`+"\xfe\xff"+`"}`, body("")), "bad")
	})
	t.Run("7519 7.3 strings are compared code point by code point, unnormalized", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.Issuers = []string{"https://idp.test/caf\u00e9"} })
		expect(t, a, hsToken(t, hdr, body(`,"iss":"https://idp.test/cafe`+"\u0301"+`"`)), "bad")
		// JSON escaping is removed before comparing.
		expect(t, a, hsToken(t, hdr, body(`,"iss":"https:\/\/idp.test\/caf\u00e9"`)), "ok")
	})
	t.Run("7519 8 HS256, RS256 and ES256 are implemented", func(t *testing.T) {
		for _, alg := range []string{"HS256", "RS256", "ES256"} {
			priv, _ := k.forAlg(alg)
			a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, alg)}, Now: clk.now})
			expect(t, a, sign(t, alg, priv, "", claimsAt(clk)), "ok")
		}
	})
}

// countingServer counts the requests it gets: a URL a token names must
// never be fetched.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func headerJSON(t testing.TB, h map[string]any) string {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRFC7515(t *testing.T) {
	k := keys()
	clk := newClock()
	now := clk.now().Unix()
	hdr := `{"alg":"HS256"}`
	body := fmt.Sprintf(`{"sub":"alice","exp":%d}`, now+300)
	attacker, _ := ecdsa.GenerateKey(k.ec256.Curve, rand.Reader)

	t.Run("7515 4 unknown header parameters are ignored", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, `{"alg":"HS256","x-vendor":{"a":[1]},"zip":"no"}`, body), "ok")
	})
	t.Run("7515 4 duplicate header parameters: the lexically last is used", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, `{"alg":"none","alg":"HS256"}`, body), "ok")
		expect(t, a, hsToken(t, `{"alg":"HS256","alg":"none"}`, body), "bad")
	})
	t.Run("7515 4.1.1 a token without alg is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, `{}`, body), "bad")
		expect(t, a, hsToken(t, `{"typ":"JWT"}`, body), "bad")
	})
	t.Run("7515 4.1.1 alg is case-sensitive", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, alg := range []string{"hs256", "Hs256", "HS256 "} {
			expect(t, a, hsToken(t, `{"alg":"`+alg+`"}`, body), "bad")
		}
	})
	t.Run("7515 4.1.1 an alg that is not a string is refused", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, `{"alg":256}`, body), "bad")
	})
	t.Run("7515 4.1.2 a jku header is never fetched", func(t *testing.T) {
		srv, fetched := countingServer(t)
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, headerJSON(t, map[string]any{"alg": "HS256", "jku": srv.URL}), body), "ok")
		expect(t, a, rawToken(t, "ES256", attacker, headerJSON(t, map[string]any{"alg": "ES256", "jku": srv.URL, "kid": "x"}), body), "bad")
		if n := fetched.Load(); n != 0 {
			t.Errorf("the jku URL was fetched %d times", n)
		}
	})
	t.Run("7515 4.1.3 a key embedded in the header (jwk) is not trusted", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.ec256.PublicKey)}}, Now: clk.now})
		h := headerJSON(t, map[string]any{"alg": "ES256", "jwk": jwkOf("x", &attacker.PublicKey)})
		expect(t, a, rawToken(t, "ES256", attacker, h, body), "bad")
	})
	t.Run("7515 4.1.4 kid is case-sensitive", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{ID: "k1", Secret: k.secret}}, Now: clk.now})
		expect(t, a, hsToken(t, `{"alg":"HS256","kid":"k1"}`, body), "ok")
		expect(t, a, hsToken(t, `{"alg":"HS256","kid":"K1"}`, body), "bad")
	})
	t.Run("7515 4.1.4 a kid that is not a string is refused", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{ID: "1", Secret: k.secret}, {Secret: k.secret}}, Now: clk.now})
		expect(t, a, hsToken(t, `{"alg":"HS256","kid":1}`, body), "bad")
		expect(t, a, hsToken(t, `{"alg":"HS256","kid":null}`, body), "bad")
	})
	t.Run("7515 4.1.5 an x5u header is never fetched", func(t *testing.T) {
		srv, fetched := countingServer(t)
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.rsa.PublicKey)}}, Now: clk.now})
		h := headerJSON(t, map[string]any{"alg": "RS256", "x5u": srv.URL})
		expect(t, a, rawToken(t, "RS256", k.rsa2, h, body), "bad")
		expect(t, a, rawToken(t, "RS256", k.rsa, h, body), "ok")
		if n := fetched.Load(); n != 0 {
			t.Errorf("the x5u URL was fetched %d times", n)
		}
	})
	t.Run("7515 4.1.6 a certificate in the header (x5c) is not trusted", func(t *testing.T) {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "idp.test"},
			NotBefore: clk.now().Add(-time.Hour), NotAfter: clk.now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.rsa2.PublicKey, k.rsa2)
		if err != nil {
			t.Fatal(err)
		}
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.rsa.PublicKey)}}, Now: clk.now})
		h := headerJSON(t, map[string]any{"alg": "RS256", "x5c": []string{base64.StdEncoding.EncodeToString(der)}})
		expect(t, a, rawToken(t, "RS256", k.rsa2, h, body), "bad")
	})
	t.Run("7515 4.1.9 typ JWT, at+jwt or no typ at all is accepted", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, h := range []string{`{"alg":"HS256"}`, `{"alg":"HS256","typ":"JWT"}`, `{"alg":"HS256","typ":"jwt"}`,
			`{"alg":"HS256","typ":"at+jwt"}`, `{"alg":"HS256","typ":"application/at+jwt"}`} {
			expect(t, a, hsToken(t, h, body), "ok")
		}
	})
	t.Run("7515 4.1.10 a cty other than JWT is ignored", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, `{"alg":"HS256","cty":"json"}`, body), "ok")
	})
	t.Run("7515 4.1.11 crit is refused: no extension is understood", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, fmt.Sprintf(`{"alg":"HS256","crit":["exp"],"exp":%d}`, now+60), body), "bad")
		expect(t, a, hsToken(t, `{"alg":"HS256","crit":["b64"],"b64":false}`, body), "bad")
	})
	t.Run("7515 4.1.11 an empty crit list is refused", func(t *testing.T) {
		expect(t, hsJWT(t, clk, nil), hsToken(t, `{"alg":"HS256","crit":[]}`, body), "bad")
	})
	t.Run("7515 5.2 a segment with characters outside base64url is refused", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.Query = "access_token" })
		good := hsToken(t, hdr, body)
		mid := strings.LastIndexByte(good, '.') + 10
		for _, tok := range []string{
			good[:mid] + "\n" + good[mid:], // Go's base64 skips line breaks
			good[:mid] + "\r\n" + good[mid:],
			good + "=",
			strings.ReplaceAll(strings.ReplaceAll(good, "-", "+"), "_", "/") + "+/",
		} {
			r := httptest.NewRequest(http.MethodGet, "/?access_token="+url.QueryEscape(tok), nil)
			if _, err := a.Authenticate(r); class(err) != "bad" {
				t.Errorf("%q: %v, want bad", tok, err)
			}
		}
		r := httptest.NewRequest(http.MethodGet, "/?access_token="+good, nil)
		if _, err := a.Authenticate(r); err != nil {
			t.Errorf("the token itself: %v", err)
		}
	})
	t.Run("7515 5.2 base64url with stray trailing bits is refused", func(t *testing.T) {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		good := hsToken(t, hdr, body) // a 32-byte MAC: 43 characters, the last with 2 spare bits
		last := strings.IndexByte(alphabet, good[len(good)-1])
		expect(t, hsJWT(t, clk, nil), good[:len(good)-1]+string(alphabet[last^1]), "bad")
	})
	t.Run("7515 5.2 the signature must verify", func(t *testing.T) {
		tok := resign(t, hsToken(t, hdr, body), func(s []byte) []byte { s[0] ^= 1; return s })
		expect(t, hsJWT(t, clk, nil), tok, "bad")
	})
	t.Run("7515 5.2 an algorithm the application does not accept is refused", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.rsa.PublicKey)}}, Algorithms: []string{"RS256"}, Now: clk.now})
		expect(t, a, sign(t, "PS256", k.rsa, "", claimsAt(clk)), "bad")
		expect(t, a, sign(t, "RS256", k.rsa, "", claimsAt(clk)), "ok")
	})
	t.Run("7515 10.12 JSON with trailing data is refused in its entirety", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		expect(t, a, hsToken(t, hdr, body+` {"sub":"root"}`), "bad")
		expect(t, a, hsToken(t, hdr, body+`x`), "bad")
		expect(t, a, hsToken(t, hdr+` x`, body), "bad")
	})
	t.Run("7515 10.13 names and values are compared without Unicode normalization", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{ID: "caf\u00e9", Secret: k.secret}}, Now: clk.now})
		expect(t, a, hsToken(t, `{"alg":"HS256","kid":"cafe`+"\u0301"+`"}`, body), "bad")
		expect(t, a, hsToken(t, `{"alg":"HS256","kid":"caf\u00e9"}`, body), "ok")
	})
}

func TestRFC7518(t *testing.T) {
	k := keys()
	clk := newClock()
	claims := claimsAt(clk)

	t.Run("7518 3.1 every signature algorithm of the table verifies", func(t *testing.T) {
		for _, alg := range algs {
			priv, _ := k.forAlg(alg)
			a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, alg)}, Now: clk.now})
			expect(t, a, sign(t, alg, priv, "", claims), "ok")
		}
	})
	t.Run("7518 3.2 an HMAC key shorter than the hash is refused", func(t *testing.T) {
		for name, key := range map[string]JWTKey{
			"31 bytes":        {Secret: k.secret[:31]},
			"32 bytes, HS384": {Secret: k.secret[:32], Algorithms: []string{"HS384"}},
			"47 bytes, HS384": {Secret: k.secret[:47], Algorithms: []string{"HS384"}},
			"63 bytes, HS512": {Secret: k.secret[:63], Algorithms: []string{"HS512"}},
		} {
			if err := CheckJWT(JWTOptions{Keys: []JWTKey{key}}); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		for _, key := range []JWTKey{{Secret: k.secret[:48], Algorithms: []string{"HS384"}}, {Secret: k.secret, Algorithms: []string{"HS512"}}} {
			if err := CheckJWT(JWTOptions{Keys: []JWTKey{key}}); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("7518 3.2 a 32-byte secret verifies HS256 only", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{Secret: k.secret[:32]}}, Now: clk.now})
		expect(t, a, sign(t, "HS256", k.secret[:32], "", claims), "ok")
		expect(t, a, sign(t, "HS384", k.secret[:32], "", claims), "bad")
		expect(t, a, sign(t, "HS512", k.secret[:32], "", claims), "bad")
	})
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	t.Run("7518 3.3 an RSA key under 2048 bits is refused", func(t *testing.T) {
		if err := CheckJWT(JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &small.PublicKey)}}}); err == nil {
			t.Error("a 1024-bit PEM key was accepted")
		}
		raw, _ := json.Marshal(jwkOf("s", &small.PublicKey))
		if _, err := parseJWK(raw); err == nil {
			t.Error("a 1024-bit JWK was accepted")
		}
	})
	t.Run("7518 3.4 an ECDSA signature is R and S at the curve's size", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.ec256.PublicKey)}}, Now: clk.now})
		tok := sign(t, "ES256", k.ec256, "", claims)
		expect(t, a, tok, "ok")
		parts := strings.Split(tok, ".")
		h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		der, err := ecdsa.SignASN1(rand.Reader, k.ec256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		expect(t, a, resign(t, tok, func([]byte) []byte { return der }), "bad")
		expect(t, a, resign(t, tok, func(s []byte) []byte { return append([]byte{0}, s...) }), "bad")
		expect(t, a, resign(t, tok, func(s []byte) []byte { return s[:63] }), "bad")
	})
	t.Run("7518 3.4 an ES256 token does not verify against a P-384 key", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.ec384.PublicKey)}}, Now: clk.now})
		expect(t, a, sign(t, "ES256", k.ec256, "", claims), "bad")
		expect(t, a, sign(t, "ES384", k.ec384, "", claims), "ok")
	})
	t.Run("7518 3.5 a PSS signature's salt is as long as the hash", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: pemOf(t, &k.rsa.PublicKey)}}, Now: clk.now})
		for alg, h := range map[string]crypto.Hash{"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512} {
			tok := sign(t, alg, k.rsa, "", claims)
			expect(t, a, tok, "ok")
			parts := strings.Split(tok, ".")
			hh := h.New()
			hh.Write([]byte(parts[0] + "." + parts[1]))
			for _, salt := range []int{0, h.Size() - 1, h.Size() + 1, rsa.PSSSaltLengthAuto} {
				sig, err := rsa.SignPSS(rand.Reader, k.rsa, h, hh.Sum(nil), &rsa.PSSOptions{SaltLength: salt})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := a.Authenticate(bearerReq(resign(t, tok, func([]byte) []byte { return sig }))); class(err) != "bad" {
					t.Errorf("%s with a %d-byte salt: %v, want bad", alg, salt, err)
				}
			}
		}
	})
	t.Run("7518 3.6 none is accepted by no key and cannot be configured", func(t *testing.T) {
		if err := CheckJWT(JWTOptions{Keys: []JWTKey{{Secret: k.secret}}, Algorithms: []string{"none"}}); err == nil {
			t.Error("algorithms [none] accepted")
		}
		if err := CheckJWT(JWTOptions{Keys: []JWTKey{{Secret: k.secret, Algorithms: []string{"none"}}}}); err == nil {
			t.Error("a key for none accepted")
		}
		expect(t, hsJWT(t, clk, nil), sign(t, "none", jwt.UnsafeAllowNoneSignatureType, "", claims), "bad")
	})
}

// jwkWith is the JWK m with kv added (a nil value removes the member).
func jwkWith(m map[string]any, kv ...any) map[string]any {
	c := map[string]any{}
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// parses reports whether parseJWK accepts m, failing t if the answer is
// not want.
func parses(t *testing.T, name string, m map[string]any, want bool) *verifyKey {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	vk, err := parseJWK(raw)
	if (err == nil) != want {
		t.Errorf("%s: parsed %v (%v), want %v", name, err == nil, err, want)
	}
	return vk
}

// rawKeySet serves body as a JWK Set and returns a JWT method on it.
func rawKeySet(t *testing.T, clk *clock, body string) *JWT {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	a, err := NewJWT(JWTOptions{JWKS: JWKSOptions{URL: srv.URL}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestRFC7517(t *testing.T) {
	k := keys()
	clk := newClock()
	rsaJWK := jwkOf("r", &k.rsa.PublicKey)
	enc := base64.RawURLEncoding.EncodeToString

	t.Run("7517 4 unknown JWK members are ignored", func(t *testing.T) {
		parses(t, "vendor members", jwkWith(rsaJWK, "x-vendor", map[string]any{"a": 1}, "ext", true, "iat", 5), true)
	})
	t.Run("7517 4 JWK member names are case-sensitive", func(t *testing.T) {
		// "USE" is not "use": an unknown member, ignored.
		if vk := parses(t, "USE enc", jwkWith(rsaJWK, "use", nil, "USE", "enc"), true); vk != nil && len(vk.algs) != 6 {
			t.Errorf("algorithms %v", vk.algs)
		}
		if vk := parses(t, "ALG PS256", jwkWith(rsaJWK, "ALG", "PS256"), true); vk != nil && len(vk.algs) != 6 {
			t.Errorf("ALG pinned the key: %v", vk.algs)
		}
		parses(t, "KTY", jwkWith(rsaJWK, "kty", nil, "KTY", "RSA"), false)
		parses(t, "N and E", jwkWith(rsaJWK, "n", nil, "e", nil, "N", rsaJWK["n"], "E", rsaJWK["e"]), false)
	})
	t.Run("7517 4 duplicate JWK members: the lexically last is used", func(t *testing.T) {
		b, _ := json.Marshal(rsaJWK)
		raw := strings.Replace(string(b), `{`, `{"kty":"oct",`, 1) // the real "kty":"RSA" comes later
		if _, err := parseJWK([]byte(raw)); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	})
	t.Run("7517 4.1 kty must be present and is case-sensitive", func(t *testing.T) {
		parses(t, "no kty", jwkWith(rsaJWK, "kty", nil), false)
		parses(t, "kty rsa", jwkWith(rsaJWK, "kty", "rsa"), false)
		parses(t, "kty ec", jwkWith(jwkOf("e", &k.ec256.PublicKey), "kty", "ec"), false)
	})
	t.Run("7517 4.2 a key for encryption is not used to verify", func(t *testing.T) {
		parses(t, "use enc", jwkWith(rsaJWK, "use", "enc"), false)
		parses(t, "use SIG", jwkWith(rsaJWK, "use", "SIG"), false)
		parses(t, "no use", jwkWith(rsaJWK, "use", nil), true)
	})
	t.Run("7517 4.3 a key whose key_ops lack verify is not used", func(t *testing.T) {
		parses(t, "sign", jwkWith(rsaJWK, "use", nil, "key_ops", []string{"sign"}), false)
		parses(t, "empty", jwkWith(rsaJWK, "use", nil, "key_ops", []string{}), false)
		parses(t, "not a list", jwkWith(rsaJWK, "use", nil, "key_ops", "verify"), false)
		parses(t, "verify", jwkWith(rsaJWK, "use", nil, "key_ops", []string{"verify"}), true)
	})
	t.Run("7517 4.3 use and key_ops must agree", func(t *testing.T) {
		parses(t, "sig, encrypt", jwkWith(rsaJWK, "key_ops", []string{"encrypt"}), false)
		parses(t, "enc, verify", jwkWith(rsaJWK, "use", "enc", "key_ops", []string{"verify"}), false)
		parses(t, "sig, verify", jwkWith(rsaJWK, "key_ops", []string{"verify"}), true)
	})
	t.Run("7517 4.4 a key's alg is the one algorithm it verifies", func(t *testing.T) {
		if vk := parses(t, "PS384", jwkWith(rsaJWK, "alg", "PS384"), true); vk != nil && !slices.Equal(vk.algs, []string{"PS384"}) {
			t.Errorf("algorithms %v", vk.algs)
		}
	})
	t.Run("7517 4.4 an alg that does not fit the key is refused", func(t *testing.T) {
		for _, alg := range []string{"ES256", "HS256", "none", "RSA-OAEP", "rs256"} {
			parses(t, alg, jwkWith(rsaJWK, "alg", alg), false)
		}
	})
	t.Run("7517 4.5 kid is a case-sensitive string", func(t *testing.T) {
		parses(t, "numeric kid", jwkWith(rsaJWK, "kid", 5), false)
		raw, _ := json.Marshal(map[string]any{"keys": []any{jwkOf("k1", &k.rsa.PublicKey)}})
		a := rawKeySet(t, clk, string(raw))
		expect(t, a, sign(t, "RS256", k.rsa, "k1", claimsAt(clk)), "ok")
		expect(t, a, sign(t, "RS256", k.rsa, "K1", claimsAt(clk)), "bad")
	})
	t.Run("7517 4.5 keys sharing a kid are each tried", func(t *testing.T) {
		raw, _ := json.Marshal(map[string]any{"keys": []any{jwkOf("same", &k.rsa.PublicKey), jwkOf("same", &k.ec256.PublicKey)}})
		a := rawKeySet(t, clk, string(raw))
		expect(t, a, sign(t, "RS256", k.rsa, "same", claimsAt(clk)), "ok")
		expect(t, a, sign(t, "ES256", k.ec256, "same", claimsAt(clk)), "ok")
	})
	t.Run("7517 4.7 an x5c in a JWK is not used: the key is its n and e", func(t *testing.T) {
		vk := parses(t, "x5c", jwkWith(rsaJWK, "x5c", []string{"AAAA"}, "x5u", "http://evil.test/"), true)
		if p, ok := vk.key.(*rsa.PublicKey); !ok || !p.Equal(&k.rsa.PublicKey) {
			t.Errorf("key %v", vk.key)
		}
	})
	t.Run("7517 5 unknown JWK Set members are ignored", func(t *testing.T) {
		raw, _ := json.Marshal(map[string]any{"keys": []any{rsaJWK}, "x-issuer": "https://idp.test", "n": 1})
		expect(t, rawKeySet(t, clk, string(raw)), sign(t, "RS256", k.rsa, "r", claimsAt(clk)), "ok")
	})
	t.Run("7517 5 a JWK Set must have its keys member", func(t *testing.T) {
		b, _ := json.Marshal([]any{rsaJWK})
		for _, body := range []string{`{"KEYS":[` + strings.Trim(string(b), "[]") + `]}`, string(b), `{"keys":{}}`, `{}`} {
			expect(t, rawKeySet(t, clk, body), sign(t, "RS256", k.rsa, "r", claimsAt(clk)), "bad")
		}
	})
	t.Run("7517 5.1 keys that cannot be used are skipped, the others kept", func(t *testing.T) {
		raw, _ := json.Marshal(map[string]any{"keys": []any{
			map[string]any{"kty": "oct", "k": enc(k.secret)}, jwkWith(rsaJWK, "use", "enc", "kid", "enc"),
			map[string]any{"kty": "PQC", "kid": "future"}, jwkWith(rsaJWK, "n", "!!"), rsaJWK,
		}})
		expect(t, rawKeySet(t, clk, string(raw)), sign(t, "RS256", k.rsa, "r", claimsAt(clk)), "ok")
	})
}

func TestRFC8037(t *testing.T) {
	k := keys()
	clk := newClock()
	edJWK := jwkOf("d", k.ed.Public())
	enc := base64.RawURLEncoding.EncodeToString

	t.Run("8037 2 an OKP key needs crv Ed25519 and an x of 32 bytes", func(t *testing.T) {
		parses(t, "Ed25519", edJWK, true)
		parses(t, "no crv", jwkWith(edJWK, "crv", nil), false)
		parses(t, "crv ed25519", jwkWith(edJWK, "crv", "ed25519"), false)
		parses(t, "Ed448", jwkWith(edJWK, "crv", "Ed448", "x", enc(make([]byte, 57))), false)
		parses(t, "no x", jwkWith(edJWK, "x", nil), false)
		parses(t, "31-byte x", jwkWith(edJWK, "x", enc(k.ed.Public().(ed25519.PublicKey)[:31])), false)
	})
	t.Run("8037 2 a JWK with private key material is refused", func(t *testing.T) {
		parses(t, "OKP d", jwkWith(edJWK, "d", enc(k.ed.Seed())), false)
		parses(t, "EC d", jwkWith(jwkOf("e", &k.ec256.PublicKey), "d", enc(k.ec256.D.Bytes())), false)
		parses(t, "RSA d", jwkWith(jwkOf("r", &k.rsa.PublicKey), "d", enc(k.rsa.D.Bytes())), false)
		parses(t, "RSA p", jwkWith(jwkOf("r", &k.rsa.PublicKey), "p", enc(k.rsa.Primes[0].Bytes())), false)
	})
	t.Run("8037 3.1 EdDSA verifies with an Ed25519 key", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, "EdDSA")}, Now: clk.now})
		expect(t, a, sign(t, "EdDSA", k.ed, "", claimsAt(clk)), "ok")
		raw, _ := json.Marshal(map[string]any{"keys": []any{edJWK}})
		expect(t, rawKeySet(t, clk, string(raw)), sign(t, "EdDSA", k.ed, "d", claimsAt(clk)), "ok")
	})
	t.Run("8037 3.1 an EdDSA signature of the wrong length is refused", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, "EdDSA")}, Now: clk.now})
		tok := sign(t, "EdDSA", k.ed, "", claimsAt(clk))
		expect(t, a, resign(t, tok, func(s []byte) []byte { return s[:63] }), "bad")
		expect(t, a, resign(t, tok, func(s []byte) []byte { return append(s, 0) }), "bad")
	})
	t.Run("8037 3.2 an X25519 key does not verify signatures", func(t *testing.T) {
		parses(t, "X25519", jwkWith(edJWK, "crv", "X25519"), false)
	})
}

func TestRFC8725(t *testing.T) {
	k := keys()
	clk := newClock()
	claims := claimsAt(clk)
	now := clk.now().Unix()
	body := fmt.Sprintf(`{"sub":"alice","exp":%d}`, now+300)
	rsaPEM := pemOf(t, &k.rsa.PublicKey)

	t.Run("8725 2.1 alg none is refused", func(t *testing.T) {
		tok := sign(t, "none", jwt.UnsafeAllowNoneSignatureType, "", claims)
		for _, alg := range algs {
			expect(t, newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, alg)}, Now: clk.now}), tok, "bad")
		}
	})
	t.Run("8725 2.1 none in any spelling is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		real := strings.Split(hsToken(t, `{"alg":"HS256"}`, body), ".")
		for _, alg := range []string{"none", "NONE", "None", "nOnE"} {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `"}`))
			expect(t, a, h+"."+real[1]+".", "bad")
			expect(t, a, h+"."+real[1]+"."+real[2], "bad")
		}
	})
	t.Run("8725 2.1 an empty signature is refused", func(t *testing.T) {
		for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
			priv, _ := k.forAlg(alg)
			tok := sign(t, alg, priv, "", claims)
			a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, alg)}, Now: clk.now})
			expect(t, a, tok[:strings.LastIndexByte(tok, '.')+1], "bad")
		}
	})
	t.Run("8725 2.2 HS256 signed with the RSA public key is refused", func(t *testing.T) {
		n, _ := base64.RawURLEncoding.DecodeString(jwkOf("r", &k.rsa.PublicKey)["n"].(string))
		der, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
		raw, _ := json.Marshal(map[string]any{"keys": []any{jwkOf("r", &k.rsa.PublicKey)}})
		for _, a := range []*JWT{newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: rsaPEM}}, Now: clk.now}), rawKeySet(t, clk, string(raw))} {
			for _, secret := range [][]byte{rsaPEM, der, x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey), n} {
				expect(t, a, sign(t, "HS256", secret, "r", claims), "bad")
			}
		}
	})
	t.Run("8725 2.2 a public-key token against an HMAC secret is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
			priv, _ := k.forAlg(alg)
			expect(t, a, sign(t, alg, priv, "", claims), "bad")
		}
	})
	t.Run("8725 3.1 only the algorithms the caller allows are used", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: rsaPEM}, {PEM: pemOf(t, &k.ec256.PublicKey)}}, Algorithms: []string{"ES256"}, Now: clk.now})
		expect(t, a, sign(t, "ES256", k.ec256, "", claims), "ok")
		expect(t, a, sign(t, "RS256", k.rsa, "", claims), "bad")
	})
	t.Run("8725 3.1 a key verifies only algorithms of its own kind", func(t *testing.T) {
		kind := map[string]string{"HS": "hmac", "RS": "rsa", "PS": "rsa", "ES": "ec", "Ed": "ed"}
		for _, keyAlg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
			a := newTestJWT(t, JWTOptions{Keys: []JWTKey{k.staticFor(t, keyAlg)}, Now: clk.now})
			for _, alg := range algs {
				if kind[alg[:2]] == kind[keyAlg[:2]] {
					continue
				}
				priv, _ := k.forAlg(alg)
				expect(t, a, sign(t, alg, priv, "", claims), "bad")
			}
		}
	})
	t.Run("8725 3.1 a key pinned to one algorithm verifies only that one", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{PEM: rsaPEM, Algorithms: []string{"RS256"}}}, Now: clk.now})
		expect(t, a, sign(t, "RS256", k.rsa, "", claims), "ok")
		for _, alg := range []string{"RS384", "RS512", "PS256", "PS384", "PS512"} {
			expect(t, a, sign(t, alg, k.rsa, "", claims), "bad")
		}
		raw, _ := json.Marshal(map[string]any{"keys": []any{jwkWith(jwkOf("r", &k.rsa.PublicKey), "alg", "PS256")}})
		b := rawKeySet(t, clk, string(raw))
		expect(t, b, sign(t, "PS256", k.rsa, "r", claims), "ok")
		expect(t, b, sign(t, "RS256", k.rsa, "r", claims), "bad")
	})
	t.Run("8725 3.2 only current algorithms are offered", func(t *testing.T) {
		want := []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
		if !slices.Equal(allAlgorithms, want) {
			t.Errorf("algorithms %v, want %v", allAlgorithms, want)
		}
	})
	t.Run("8725 3.3 a token is refused when any cryptographic check fails", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		inner := resign(t, hsToken(t, `{"alg":"HS256"}`, body), func(s []byte) []byte { s[3] ^= 1; return s })
		expect(t, a, hsToken(t, `{"alg":"HS256","cty":"JWT"}`, inner), "bad")
	})
	t.Run("8725 3.4 an EC key off its curve is refused", func(t *testing.T) {
		ec := jwkOf("e", &k.ec256.PublicKey)
		parses(t, "y = x", jwkWith(ec, "y", ec["x"]), false)
		parses(t, "short x", jwkWith(ec, "x", "AAAA"), false)
		parses(t, "P-521 size on P-256", jwkWith(jwkOf("e", &k.ec521.PublicKey), "crv", "P-256"), false)
	})
	t.Run("8725 3.5 an HMAC secret must be at least as long as the hash", func(t *testing.T) {
		for _, n := range []int{0, 1, 16, 31} {
			if err := CheckJWT(JWTOptions{Keys: []JWTKey{{Secret: make([]byte, n)}}}); err == nil {
				t.Errorf("a %d-byte secret was accepted", n)
			}
		}
	})
	t.Run("8725 3.7 a claims set in UTF-16 is refused", func(t *testing.T) {
		u := utf16.Encode([]rune("\ufeff" + body))
		b := make([]byte, 0, 2*len(u))
		for _, c := range u {
			b = append(b, byte(c>>8), byte(c))
		}
		expect(t, hsJWT(t, clk, nil), hsToken(t, `{"alg":"HS256"}`, string(b)), "bad")
	})
	t.Run("8725 3.8 a token from an issuer not accepted is refused", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.Issuers = []string{"https://idp.test"} })
		expect(t, a, hsToken(t, `{"alg":"HS256"}`, fmt.Sprintf(`{"sub":"a","iss":"https://evil.test","exp":%d}`, now+60)), "bad")
		expect(t, a, hsToken(t, `{"alg":"HS256"}`, body), "bad")
	})
	t.Run("8725 3.9 a token for another audience is refused", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.Audiences = []string{"orders"} })
		expect(t, a, hsToken(t, `{"alg":"HS256"}`, fmt.Sprintf(`{"sub":"a","aud":"billing","exp":%d}`, now+60)), "bad")
		expect(t, a, hsToken(t, `{"alg":"HS256"}`, body), "bad")
	})
	t.Run("8725 3.10 a kid is only a lookup key", func(t *testing.T) {
		a := newTestJWT(t, JWTOptions{Keys: []JWTKey{{ID: "k1", Secret: k.secret}}, Now: clk.now})
		for _, kid := range []string{"../../../etc/passwd", "' OR '1'='1", "k1\x00", "k1%00", strings.Repeat("k", 4000)} {
			expect(t, a, hsToken(t, headerJSON(t, map[string]any{"alg": "HS256", "kid": kid}), body), "bad")
		}
	})
	t.Run("8725 3.11 a token typed as another kind of JWT is refused", func(t *testing.T) {
		a := hsJWT(t, clk, nil)
		for _, typ := range []string{`"logout+jwt"`, `"secevent+jwt"`, `"application/dpop+jwt"`, `"id_token+JWT"`, `5`, `null`} {
			expect(t, a, hsToken(t, `{"alg":"HS256","typ":`+typ+`}`, body), "bad")
		}
	})
	t.Run("8725 3.12 required claims keep other kinds of token out", func(t *testing.T) {
		a := hsJWT(t, clk, func(o *JWTOptions) { o.RequireClaims = map[string][]string{"token_use": {"access"}} })
		expect(t, a, hsToken(t, `{"alg":"HS256"}`, fmt.Sprintf(`{"sub":"a","token_use":"id","exp":%d}`, now+60)), "forbidden")
		expect(t, a, hsToken(t, `{"alg":"HS256"}`, fmt.Sprintf(`{"sub":"a","token_use":"access","exp":%d}`, now+60)), "ok")
	})
}
