package auth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// seen is a backend remembering the header and URL of the last request.
type seen struct {
	mu  sync.Mutex
	h   http.Header
	uri string
	n   int
}

func (s *seen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.h, s.uri = r.Header.Clone(), r.URL.RequestURI()
	s.n++
	s.mu.Unlock()
	w.Write([]byte("ok"))
}

func (s *seen) last() (http.Header, string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h, s.uri, s.n
}

func bcryptHash(t *testing.T, pass string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func argon2Hash(pass string) string {
	salt := []byte("0123456789abcdef")
	sum := argon2.IDKey([]byte(pass), salt, 1, 8*1024, 1, 32)
	return "$argon2id$v=19$m=8192,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(sum)
}

func digest(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// start runs Gatehouse with two routes behind auth in front of one
// backend: /basic (staff: basic) and /keys (services: api keys, with one
// key allowed only on /basic), and /either using both.
func start(t *testing.T, apiKeyWhere string) (*testkit.Gatehouse, *seen) {
	t.Helper()
	be := &seen{}
	b := testkit.NewBackend(t, "api", be)
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	os.WriteFile(htpasswd, []byte("# staff\nbob:"+argon2Hash("bobpw")+"\n"), 0o600)
	g := testkit.Start(t, `
authenticators:
  staff:
    basic:
      realm: staff
      users: {alice: "`+bcryptHash(t, "alicepw")+`"}
      htpasswd: `+htpasswd+`
  services:
    api_key:
      `+apiKeyWhere+`
      keys:
        - {sha256: `+digest("key-billing")+`, identity: billing}
        - {sha256: `+digest("key-basic-only")+`, identity: narrow, routes: [basic]}
routes:
  - {name: basic, match: {path: /basic}, upstream: "${API}", auth: {use: [staff], method_header: X-Auth-Method}}
  - {name: keys, match: {path: /keys}, upstream: "${API}", auth: {use: [services]}}
  - {name: either, match: {path: /either}, upstream: "${API}", auth: {use: [staff, services], claims_prefix: X-Auth-Claim-}}
`, testkit.Vars{"API": b.URL})
	return g, be
}

func TestBasic(t *testing.T) {
	g, be := start(t, "header: X-API-Key")
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"none", "", 401},
		{"wrong password", basicHeader("alice", "nope"), 401},
		{"unknown user", basicHeader("mallory", "alicepw"), 401},
		{"not basic", "Bearer alicepw", 401},
		{"bcrypt", basicHeader("alice", "alicepw"), 200},
		{"argon2id from htpasswd", basicHeader("bob", "bobpw"), 200},
		{"scheme in another case", "bAsIc " + base64.StdEncoding.EncodeToString([]byte("alice:alicepw")), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, before := be.last()
			h := []string{"X-Auth-User", "root", "X-Auth-Method", "forged"}
			if tc.auth != "" {
				h = append(h, "Authorization", tc.auth)
			}
			res, _ := g.Get("/basic", h...)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			hd, _, n := be.last()
			if tc.want == 401 {
				if c := res.Header.Get("WWW-Authenticate"); c != `Basic realm="staff", charset="UTF-8"` {
					t.Errorf("WWW-Authenticate %q", c)
				}
				if n != before {
					t.Error("a refused request reached the backend")
				}
				return
			}
			user, _, _ := strings.Cut(strings.ToLower(tc.name), " ")
			_ = user
			if u := hd.Get("X-Auth-User"); u != "alice" && u != "bob" || hd.Get("X-Auth-Method") != "basic" {
				t.Errorf("upstream X-Auth-User %q, X-Auth-Method %q; want the identity, never the client's", u, hd.Get("X-Auth-Method"))
			}
			if hd.Get("Authorization") != "" {
				t.Error("the password went upstream")
			}
		})
	}
}

func TestAPIKeys(t *testing.T) {
	for _, where := range []string{"header: X-API-Key", "query: api_key", "cookie: key"} {
		t.Run(where, func(t *testing.T) {
			g, be := start(t, where)
			send := func(path, key string) *http.Response {
				var h []string
				switch {
				case key == "":
				case strings.HasPrefix(where, "header"):
					h = []string{"X-API-Key", key}
				case strings.HasPrefix(where, "cookie"):
					h = []string{"Cookie", "theme=dark; key=" + key}
				default:
					path += "?a=1&api_key=" + key + "&b=2"
				}
				res, _ := g.Get(path, h...)
				return res
			}
			// No registered scheme, but a 401 must offer a challenge (RFC
			// 9110 11.6.1): where the key goes.
			name, value, _ := strings.Cut(where, ": ")
			if res := send("/keys", ""); res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != "APIKey "+name+`="`+value+`"` {
				t.Errorf("no key: %d (WWW-Authenticate %q), want 401 with the APIKey challenge", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if res := send("/keys", "wrong"); res.StatusCode != 401 {
				t.Errorf("unknown key: %d, want 401", res.StatusCode)
			}
			if res := send("/keys", "key-basic-only"); res.StatusCode != 403 {
				t.Errorf("a key of another route: %d, want 403", res.StatusCode)
			}
			if res := send("/keys", "key-billing"); res.StatusCode != 200 {
				t.Fatalf("the right key: %d", res.StatusCode)
			}
			hd, uri, _ := be.last()
			if hd.Get("X-Auth-User") != "billing" {
				t.Errorf("upstream X-Auth-User %q, want billing", hd.Get("X-Auth-User"))
			}
			if hd.Get("X-Api-Key") != "" || strings.Contains(uri, "api_key") || strings.Contains(hd.Get("Cookie"), "key=") {
				t.Errorf("the key went upstream: header %q, URI %q, Cookie %q", hd.Get("X-Api-Key"), uri, hd.Get("Cookie"))
			}
			if strings.HasPrefix(where, "query") && uri != "/keys?a=1&b=2" {
				t.Errorf("upstream URI %q, want the other parameters as sent", uri)
			}
			if logs := g.Access.String(); strings.Contains(logs, "key-billing") || strings.Contains(logs, "key-basic-only") || !strings.Contains(logs, `"user":"billing"`) {
				t.Errorf("the access log shows a key, or not the user:\n%s", logs)
			}
			if strings.HasPrefix(where, "cookie") && hd.Get("Cookie") != "theme=dark" {
				t.Errorf("upstream Cookie %q, want the other cookies kept", hd.Get("Cookie"))
			}
		})
	}
}

// With two methods, either admits; with neither, the 401 offers the
// challenges there are.
func TestEither(t *testing.T) {
	g, be := start(t, "header: X-API-Key")
	if res, _ := g.Get("/either", "X-API-Key", "key-billing", "X-Auth-Claim-Admin", "true"); res.StatusCode != 200 {
		t.Errorf("by key: %d", res.StatusCode)
	}
	if hd, _, _ := be.last(); hd.Get("X-Auth-Claim-Admin") != "" {
		t.Error("a client-sent header under the claims prefix went upstream")
	}
	if res, _ := g.Get("/either", "Authorization", basicHeader("alice", "alicepw")); res.StatusCode != 200 {
		t.Errorf("by password: %d", res.StatusCode)
	}
	res, _ := g.Get("/either")
	if c := res.Header.Values("WWW-Authenticate"); res.StatusCode != 401 || !slices.Equal(c, []string{`Basic realm="staff", charset="UTF-8"`, `APIKey header="X-API-Key"`}) {
		t.Errorf("neither: %d, WWW-Authenticate %q; want both challenges, in the route's order", res.StatusCode, c)
	}
}
