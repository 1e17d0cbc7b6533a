package config

import (
	"os"
	"path/filepath"
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
	runValidateCases(t, []validateCase{
		{"kinds", A + "  a: {}\n  b: {basic: {users: {u: '" + goodHash + "'}}, api_key: {keys: [{sha256: " + sha("k") + ", identity: k}]}}\n", []string{
			`gh.yaml:6:3: authenticators.a: has no kind; give it basic: {users: {...}} or api_key: {keys: [...]}`,
			`gh.yaml:7:3: authenticators.b: sets both basic and api_key; an authenticator is one kind (list both in a route's auth.use)`,
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
