package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A adds authenticators to U: "authenticators:" is line 5.
const A = U + "authenticators:\n"

const goodHash = "$2a$10$rniKAQ3RsEk.dF5PVRdc1OClZNWWPw/LJdf7FZ0IjGpVf2zJygIcS"

func TestValidateAuthenticators(t *testing.T) {
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	os.WriteFile(htpasswd, []byte("# ok\nalice:"+goodHash+"\nbob:$apr1$xyz$abc\n"), 0o600)
	keys := filepath.Join(dir, "keys.yaml")
	os.WriteFile(keys, []byte("- {sha256: nothex, identity: x}\n- {sh256: a}\n"), 0o600)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	privDER, _ := x509.MarshalPKCS8PrivateKey(rk)
	pub, priv := filepath.Join(dir, "pub.pem"), filepath.Join(dir, "priv.pem")
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600)
	os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600)
	runValidateCases(t, []validateCase{
		{"kinds", A + "  a: {}\n  b: {basic: {users: {u: '" + goodHash + "'}}, api_key: {keys: [{sha256: " + sha("k") + ", identity: k}]}}\n", []string{
			`gh.yaml:6:3: authenticators.a: has no kind; give it basic: {users: {...}}, api_key: {keys: [...]}, jwt: {keys: [...]} or forward: {url: ...}`,
			`gh.yaml:7:3: authenticators.b: sets more than one of basic, api_key, jwt and forward; an authenticator is one kind (list several in a route's auth.use)`,
		}},
		{"basic", A + "  a: {basic: {}}\n  b: {basic: {users: {alice: secret, bob: '$2a$13$" + goodHash[7:] + "'}}}\n  c: {basic: {htpasswd: " + htpasswd + "}}\n  d: {basic: {htpasswd: /nonexistent/htpasswd}}\n", []string{
			`gh.yaml:6:7: authenticators.a.basic: has no users; give it users: {alice: <bcrypt hash>} or htpasswd: <file> (make a hash with htpasswd -nbB alice PASSWORD)`,
			`gh.yaml:7:23: authenticators.b.basic.users.alice: not a bcrypt ($2y$, $2b$, $2a$) or argon2id hash; plain-text passwords are not accepted (make one with: htpasswd -nbB user password)`,
			`gh.yaml:7:38: authenticators.b.basic.users.bob: bcrypt cost 13 is more than 12: each login would cost seconds of CPU`,
			`gh.yaml:8:25: authenticators.c.basic.htpasswd: ` + htpasswd + `: line 3 (user "bob"): not a bcrypt ($2y$, $2b$, $2a$) or argon2id hash; plain-text passwords are not accepted (make one with: htpasswd -nbB user password)`,
			`gh.yaml:9:25: authenticators.d.basic.htpasswd: cannot read the htpasswd file: open /nonexistent/htpasswd: no such file or directory`,
		}},
		{"api keys", A + "  a: {api_key: {}}\n  b: {api_key: {header: X-K, query: k, keys: [{sha256: " + sha("k") + "}, {sha256: " + sha("k") + ", identity: dup, routes: [nope]}, {sha256: plain, identity: p}]}}\n  c: {api_key: {keys_file: " + keys + "}}\n", []string{
			`gh.yaml:6:7: authenticators.a.api_key: has no keys; list them under keys (sha256 and identity) or in keys_file`,
			`gh.yaml:7:7: authenticators.b.api_key: sets more than one of header, query and cookie; a key is looked for in one place`,
			`gh.yaml:7:47: authenticators.b.api_key.keys[0].identity: is required: who holds the key (it goes upstream as the user)`,
			`gh.yaml:7:132: authenticators.b.api_key.keys[1].sha256: is the same key as authenticators.b.api_key.keys[0]`,
			`gh.yaml:7:213: authenticators.b.api_key.keys[1].routes: no route is named "nope"`,
			`gh.yaml:7:239: authenticators.b.api_key.keys[2].sha256: must be the key's SHA-256 as 64 hex digits (printf %s "$KEY" | sha256sum); never the key itself`,
			`gh.yaml:8:28: authenticators.c.api_key.keys_file: ` + keys + `: yaml: unmarshal errors:` + "\n  line 2: field sh256 not found in type config.APIKey (want a list of {sha256: ..., identity: ..., routes: [...]})",
		}},
		{"jwt", A + "  a: {jwt: {}}\n  b:\n    jwt:\n      keys:\n        - {secret: short}\n        - {file: " + priv + "}\n        - {file: " + pub + ", algorithms: [ES256]}\n        - {file: " + pub + ", secret: x}\n        - {file: /nonexistent.pem}\n" +
			"      algorithms: [none]\n      cookie: c\n      query: q\n      leeway: -1s\n      require_claims: {scope: []}\n" +
			"  c: {jwt: {jwks: {url: 'http://idp.example.com/jwks', min_refresh: 2h, max_refresh: 1h}}}\n  d: {jwt: {jwks: {url: ftp://idp/keys}}}\n  e: {jwt: {jwks: {url: 'http://127.0.0.1:9/jwks', ca: /nonexistent.pem}, keys: [{file: " + pub + "}]}}\n  f: {jwt: {cache_for: 2h, keys: [{secret: " + strings.Repeat("s", 32) + "}]}}\n", []string{
			`gh.yaml:6:7: authenticators.a.jwt: has no keys; give it keys: [{file: <PEM public key>}] or jwks: {url: <the IdP's jwks_uri>}`,
			`gh.yaml:8:5: authenticators.b.jwt: algorithm "none" is not one of [HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA]`,
			`gh.yaml:8:5: authenticators.b.jwt: the token comes from a cookie or a query parameter, not both`,
			`gh.yaml:10:11: authenticators.b.jwt.keys[0]: an HMAC secret of 5 bytes is too short; HS256 needs 32`,
			`gh.yaml:11:11: authenticators.b.jwt.keys[1]: a PRIVATE KEY block is not a public key or certificate`,
			`gh.yaml:12:11: authenticators.b.jwt.keys[2]: this key cannot verify ES256; it can verify [RS256 RS384 RS512 PS256 PS384 PS512]`,
			`gh.yaml:13:11: authenticators.b.jwt.keys[3]: give exactly one of file (a PEM public key), secret and secret_file`,
			`gh.yaml:14:11: authenticators.b.jwt.keys[4]: cannot read the key file: open /nonexistent.pem: no such file or directory`,
			`gh.yaml:18:15: authenticators.b.jwt.leeway: must not be negative; 0s allows no clock skew`,
			`gh.yaml:19:24: authenticators.b.jwt.require_claims.scope: lists no values; give the values of which the claim must hold one`,
			`gh.yaml:20:25: authenticators.c.jwt.jwks.url: "http://idp.example.com/jwks" is plain http: anyone on the path could hand Gatehouse their own keys; use https (plain http only to a loopback address)`,
			`gh.yaml:20:69: authenticators.c.jwt.jwks.min_refresh: is longer than max_refresh (1h0m0s)`,
			`gh.yaml:21:25: authenticators.d.jwt.jwks.url: "ftp://idp/keys": the scheme must be https`,
			`gh.yaml:22:56: authenticators.e.jwt.jwks.ca: cannot read CA bundle: open /nonexistent.pem: no such file or directory`,
			`gh.yaml:23:24: authenticators.f.jwt.cache_for: must be between 0s (never remember) and 1h: a key the IdP withdraws keeps admitting remembered tokens that long`,
		}},
		{"forward", A + "  a: {forward: {}}\n  b: {forward: {url: 'ftp://x', on_error: maybe}}\n  c: {forward: {url: 'http://127.0.0.1:9/v', timeout: 0s, request_headers: [Connection], cache: {ttl: 1h, max_entries: 0}}}\n  d: {forward: {url: 'https://auth.example.com/v', ca: /nonexistent.pem, cache: {ttl: 10s, key: [X-Session]}}}\n", []string{
			`gh.yaml:6:7: authenticators.a.forward.url: is required: the authentication service, e.g. http://127.0.0.1:9091/verify`,
			`gh.yaml:7:43: authenticators.b.forward.on_error: unknown value "maybe"; use deny (answer 503 while the service fails) or allow (admit as nobody: optional auth only)`,
			`gh.yaml:8:7: authenticators.c.forward: request header "Connection" is not one Gatehouse passes on`,
			`gh.yaml:8:55: authenticators.c.forward.timeout: must be greater than 0, got 0s`,
			`gh.yaml:8:103: authenticators.c.forward.cache.ttl: is over 10m: a session the service revokes would keep working that long`,
			`gh.yaml:8:120: authenticators.c.forward.cache.max_entries: must be greater than 0, e.g. 10000`,
			`gh.yaml:9:7: authenticators.d.forward: cache key header "X-Session" is not one of the request headers sent, ["Authorization" "Cookie"]`,
			`gh.yaml:9:56: authenticators.d.forward.ca: cannot read CA bundle: open /nonexistent.pem: no such file or directory`,
		}},
		{"route", A + "  s: {basic: {users: {u: '" + goodHash + "'}}}\nroutes:\n  - upstream: api\n    auth: {}\n  - upstream: api\n    match: {path: /b}\n    auth: {use: [s, s, x], user_header: 'bad header', claim_headers: {email: 'a b'}}\n", []string{
			`gh.yaml:9:5: routes[0].auth.use: is required: the names of authenticators to try, e.g. [staff]`,
			`gh.yaml:12:21: routes[1].auth.use[1]: "s" is listed twice`,
			`gh.yaml:12:24: routes[1].auth.use[2]: unknown authenticator "x"; authenticators defines s`,
			`gh.yaml:12:41: routes[1].auth.user_header: "bad header" is not a valid header name`,
			`gh.yaml:12:71: routes[1].auth.claim_headers.email: "a b" is not a valid header name`,
		}},
	}, nil)
}

func sha(k string) string {
	switch k {
	case "k":
		return "8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a"
	}
	return ""
}
