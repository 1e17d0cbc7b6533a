package config

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-proxy/gatehouse/internal/passhash"
)

// authenticators checks the named authenticators.
func (v *checker) authenticators() {
	for _, name := range slices.Sorted(maps.Keys(v.c.Authenticators)) {
		p := "authenticators." + name
		a := v.c.Authenticators[name]
		kinds := 0
		if a != nil && a.Basic != nil {
			kinds++
			v.basicAuth(p+".basic", a.Basic)
		}
		if a != nil && a.APIKey != nil {
			kinds++
			v.apiKeyAuth(p+".api_key", a.APIKey)
		}
		if a != nil && a.JWT != nil {
			kinds++
			v.jwtAuth(p+".jwt", a.JWT)
		}
		if a != nil && a.Forward != nil {
			kinds++
			v.forwardAuth(p+".forward", a.Forward)
		}
		switch {
		case kinds == 0:
			v.add(p, "has no kind; give it basic: {users: {...}}, api_key: {keys: [...]}, jwt: {keys: [...]} or forward: {url: ...}")
		case kinds > 1:
			v.add(p, "sets more than one of basic, api_key, jwt and forward; an authenticator is one kind (list several in a route's auth.use)")
		}
	}
}

func (v *checker) basicAuth(p string, b *BasicAuth) {
	if len(b.Users) == 0 && b.Htpasswd == "" {
		v.add(p, "has no users; give it users: {alice: <bcrypt hash>} or htpasswd: <file> (make a hash with htpasswd -nbB alice PASSWORD)")
	}
	for _, u := range slices.Sorted(maps.Keys(b.Users)) {
		if u == "" || strings.Contains(u, ":") {
			v.add(p+".users", "user name %q must be non-empty and without ':'", u)
		}
		if err := passhash.Check(b.Users[u]); err != nil {
			v.add(p+".users."+u, "%v", err)
		}
	}
	if b.Htpasswd != "" {
		if _, err := ReadHtpasswd(b.Htpasswd); err != nil {
			v.add(p+".htpasswd", "%v", err)
		}
	}
}

// ReadHtpasswd reads an htpasswd file of bcrypt or argon2id hashes.
func ReadHtpasswd(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the htpasswd file: %w", err)
	}
	users, err := passhash.ParseHtpasswd(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return users, nil
}

func (v *checker) apiKeyAuth(p string, a *APIKeyAuth) {
	where := 0
	for _, s := range []string{a.Header, a.Query, a.Cookie} {
		if s != "" {
			where++
			if !isToken(s) {
				v.add(p, "%q is not a valid header, parameter or cookie name", s)
			}
		}
	}
	if where > 1 {
		v.add(p, "sets more than one of header, query and cookie; a key is looked for in one place")
	}
	if len(a.Keys) == 0 && a.KeysFile == "" {
		v.add(p, "has no keys; list them under keys (sha256 and identity) or in keys_file")
	}
	seen := map[string]string{}
	for i, k := range a.Keys {
		v.apiKey(fmt.Sprintf("%s.keys[%d]", p, i), k, seen)
	}
	if a.KeysFile != "" {
		keys, err := ReadAPIKeys(a.KeysFile)
		if err != nil {
			v.add(p+".keys_file", "%v", err)
		}
		for i, k := range keys {
			v.apiKey(fmt.Sprintf("%s.keys_file[%d]", p, i), k, seen)
		}
	}
}

func (v *checker) apiKey(p string, k APIKey, seen map[string]string) {
	sum, err := hex.DecodeString(k.SHA256)
	if err != nil || len(sum) != 32 {
		v.add(p+".sha256", "must be the key's SHA-256 as 64 hex digits (printf %%s \"$KEY\" | sha256sum); never the key itself")
	} else if first, dup := seen[strings.ToLower(k.SHA256)]; dup {
		v.add(p+".sha256", "is the same key as %s", first)
	} else {
		seen[strings.ToLower(k.SHA256)] = p
	}
	if k.Identity == "" {
		v.add(p+".identity", "is required: who holds the key (it goes upstream as the user)")
	}
	for _, r := range k.Routes {
		if !v.routeNamed(r) {
			v.add(p+".routes", "no route is named %q", r)
		}
	}
}

// routeNamed reports whether a route (or the default route) has name.
func (v *checker) routeNamed(name string) bool {
	for i := range v.c.Routes {
		if v.c.Routes[i].Name == name {
			return true
		}
	}
	return v.c.DefaultRoute != nil && v.c.DefaultRoute.Name == name
}

// ReadAPIKeys reads a keys_file: a YAML list of {sha256, identity,
// routes}.
func ReadAPIKeys(path string) ([]APIKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the keys file: %w", err)
	}
	var keys []APIKey
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&keys); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("%s: %w (want a list of {sha256: ..., identity: ..., routes: [...]})", path, err)
	}
	return keys, nil
}

// routeAuth checks a route's auth block.
func (v *checker) routeAuth(p string, a *RouteAuth) {
	if len(a.Use) == 0 {
		v.add(p+".use", "is required: the names of authenticators to try, e.g. [staff]")
	}
	seen := map[string]bool{}
	for i, n := range a.Use {
		up := fmt.Sprintf("%s.use[%d]", p, i)
		switch {
		case v.c.Authenticators[n] == nil:
			known := slices.Sorted(maps.Keys(v.c.Authenticators))
			if len(known) == 0 {
				v.add(up, "unknown authenticator %q; none are defined (add authenticators: {%s: {basic: {users: {...}}}})", n, n)
			} else {
				v.add(up, "unknown authenticator %q; authenticators defines %s", n, orList(known))
			}
		case seen[n]:
			v.add(up, "%q is listed twice", n)
		}
		seen[n] = true
	}
	for _, h := range []struct{ key, val string }{{"user_header", a.UserHeader}, {"method_header", a.MethodHeader}, {"claims_prefix", a.ClaimsPrefix}} {
		if h.val != "" && !isToken(h.val) {
			v.add(p+"."+h.key, "%q is not a valid header name", h.val)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(a.ClaimHeaders)) {
		if !isToken(a.ClaimHeaders[c]) {
			v.add(p+".claim_headers."+c, "%q is not a valid header name", a.ClaimHeaders[c])
		}
	}
}
