package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkJWT is the in-process counterpart of bench/run.sh's edge
// scenario: a JWT method with one fixed key (a PEM public key, or the
// HMAC secret), no issuer, audience or required claims, and a token
// carrying what the scenario's tokens carry (kid, sub, iat, exp). Each
// algorithm has two parts:
//
//   - authenticate: the method's Authenticate on a request with the
//     bearer token (finding the token, parsing, the signature, the
//     claims, the identity), what the auth middleware calls per request;
//
//   - signature: the signature check alone (golang-jwt's Verify with the
//     parsed key), so authenticate minus signature is what parsing and
//     the claims cost.
//
//   - remembered: the same token again with the default CacheFor: a
//     lookup by its SHA-256, no signature check.
//
// authenticate sets CacheFor negative, so every request checks the
// signature. BenchmarkJWTVerify (jwt_test.go) is the same with iss, aud
// and a required scope.
func BenchmarkJWT(b *testing.B) {
	k := keys()
	now := time.Now()
	claims := jwt.MapClaims{"sub": "bench", "iat": now.Unix(), "exp": now.AddDate(10, 0, 0).Unix()}
	for _, alg := range []string{"RS256", "ES256", "EdDSA", "HS256"} {
		priv, pub := k.forAlg(alg)
		tok := sign(b, alg, priv, "bench", claims)
		b.Run(alg+"/authenticate", func(b *testing.B) {
			key := k.staticFor(b, alg)
			key.ID = "bench"
			a := newTestJWT(b, JWTOptions{Keys: []JWTKey{key}, CacheFor: -1})
			r := bearerReq(tok)
			if id, err := a.Authenticate(r); err != nil || id.User != "bench" {
				b.Fatalf("Authenticate: %+v, %v", id, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/remembered", func(b *testing.B) {
			key := k.staticFor(b, alg)
			a := newTestJWT(b, JWTOptions{Keys: []JWTKey{key}})
			r := bearerReq(tok)
			if _, err := a.Authenticate(r); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/signature", func(b *testing.B) {
			m := jwt.GetSigningMethod(alg)
			i := strings.LastIndexByte(tok, '.')
			sig, err := jwt.NewParser().DecodeSegment(tok[i+1:])
			if err != nil {
				b.Fatal(err)
			}
			signed := tok[:i]
			if err := m.Verify(signed, sig, pub); err != nil {
				b.Fatalf("Verify: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Verify(signed, sig, pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
