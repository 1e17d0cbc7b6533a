package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-proxy/gatehouse/internal/passhash"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Basic checks HTTP Basic credentials (RFC 7617) against password
// hashes: bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$v=19$...),
// never plain text.
//
// Checking a hash is slow on purpose, so Basic bounds what it costs: a
// verified user and password are remembered for CacheFor, keyed by a
// salted SHA-256 of both (the password itself is never kept); at most
// MaxConcurrent hashes are checked at once, later requests waiting their
// turn (or their context's end); and config refuses hashes dearer than
// bcrypt cost 12 or argon2id 64 MiB × 4 passes. An unknown user costs a
// hash check too, so timing does not tell which users exist.
type Basic struct {
	realm   string
	users   map[string]string // user → hash
	dummy   string            // a hash checked for unknown users
	slots   chan struct{}
	salt    [16]byte
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	cache   map[[32]byte]time.Time // verified credentials → until
	maxKeep int
}

// BasicOptions configure a Basic method.
type BasicOptions struct {
	// Realm is sent in the challenge. Default "Gatehouse".
	Realm string
	// Users maps user names to password hashes.
	Users map[string]string
	// CacheFor is how long verified credentials skip the hash; default
	// 5 minutes, negative for never.
	CacheFor time.Duration
	// MaxConcurrent bounds simultaneous hash checks; default a quarter of
	// the CPUs (at least one), so failed logins cannot take the machine.
	MaxConcurrent int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewBasic returns a Basic method, or an error naming a hash it cannot
// check.
func NewBasic(o BasicOptions) (*Basic, error) {
	if o.Realm == "" {
		o.Realm = "Gatehouse"
	}
	if o.CacheFor == 0 {
		o.CacheFor = 5 * time.Minute
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = max(1, runtime.GOMAXPROCS(0)/4)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := checkRealm(o.Realm); err != nil {
		return nil, err
	}
	b := &Basic{realm: o.Realm, users: o.Users, slots: make(chan struct{}, o.MaxConcurrent),
		ttl: o.CacheFor, now: o.Now, cache: map[[32]byte]time.Time{}, maxKeep: 10000}
	for u, h := range o.Users {
		if err := checkUserID(u); err != nil {
			return nil, fmt.Errorf("user %q: %w", u, err)
		}
		if err := passhash.Check(h); err != nil {
			return nil, fmt.Errorf("user %q: %w", u, err)
		}
		if b.dummy == "" {
			b.dummy = h
		}
	}
	if _, err := readRandom(b.salt[:]); err != nil {
		return nil, err
	}
	return b, nil
}

// Challenge implements Method.
func (b *Basic) Challenge() string {
	return `Basic realm=` + quotedString(b.realm) + `, charset="UTF-8"`
}

// Authenticate implements Method.
func (b *Basic) Authenticate(r *http.Request) (*reqinfo.Identity, error) {
	user, pass, ok := basicAuth(r.Header.Get("Authorization"))
	if !ok {
		return nil, fmt.Errorf("basic: %w", ErrNoCredentials)
	}
	// RFC 7617 2: no control characters; 2.1: charset="UTF-8" is what
	// the challenge announces. Refused before any hash is checked, which
	// tells nothing about which users exist.
	if !utf8.ValidString(user) || !utf8.ValidString(pass) || hasCTL(user) || hasCTL(pass) {
		return nil, fmt.Errorf("basic: the user-id or password is not UTF-8 text without control characters: %w", ErrBadCredentials)
	}
	key := b.key(user, pass)
	if b.remembered(key) {
		return &reqinfo.Identity{Method: "basic", User: user}, nil
	}
	hash, known := b.users[user]
	if !known {
		hash = b.dummy
	}
	good, err := b.check(r.Context(), hash, pass)
	if err != nil {
		return nil, fmt.Errorf("basic: %w", err)
	}
	if !good || !known {
		return nil, fmt.Errorf("basic: user %q: wrong user or password: %w", user, ErrBadCredentials)
	}
	b.remember(key)
	return &reqinfo.Identity{Method: "basic", User: user}, nil
}

// basicAuth parses an Authorization: Basic value (the scheme is
// case-insensitive, RFC 9110 11.1).
func basicAuth(v string) (user, pass string, ok bool) {
	scheme, cred, found := strings.Cut(strings.TrimLeft(v, " "), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok
}

// checkUserID refuses a configured user-id no client can send (RFC 7617
// 2): one with a colon (the user-pass is split at the first), a control
// character, or bytes that are not UTF-8.
func checkUserID(u string) error {
	switch {
	case strings.Contains(u, ":"):
		return errors.New("a user-id cannot hold a colon (RFC 7617 section 2)")
	case hasCTL(u):
		return errors.New("a user-id cannot hold control characters (RFC 7617 section 2)")
	case !utf8.ValidString(u):
		return errors.New("a user-id must be UTF-8 (RFC 7617 section 2.1)")
	}
	return nil
}

// hasCTL reports whether s holds an ASCII control character (RFC 5234
// CTL: %x00-1F and %x7F).
func hasCTL(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// checkRealm refuses a realm a quoted-string cannot carry (RFC 9110
// 5.6.4): control characters other than HTAB.
func checkRealm(realm string) error {
	if strings.IndexFunc(realm, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) >= 0 {
		return fmt.Errorf("realm %q holds a control character, which a challenge cannot carry", realm)
	}
	return nil
}

// quotedString writes s as an HTTP quoted-string (RFC 9110 5.6.4): DQUOTE
// and backslash escaped, every other byte as it is (HTAB, SP, VCHAR and
// obs-text, which is where UTF-8 goes). strconv.Quote would write Go
// escapes (\u200b) that HTTP reads as other characters. s holds no
// control characters (checkRealm).
func quotedString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func (b *Basic) key(user, pass string) [32]byte {
	h := sha256.New()
	h.Write(b.salt[:])
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (b *Basic) remembered(k [32]byte) bool {
	if b.ttl < 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.cache[k]
	return ok && b.now().Before(until)
}

func (b *Basic) remember(k [32]byte) {
	if b.ttl < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if len(b.cache) >= b.maxKeep {
		for k, until := range b.cache {
			if !now.Before(until) || len(b.cache) >= b.maxKeep {
				delete(b.cache, k)
			}
		}
	}
	b.cache[k] = now.Add(b.ttl)
}

// check verifies pass against hash, waiting for a free slot first.
func (b *Basic) check(ctx context.Context, hash, pass string) (bool, error) {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-b.slots }()
	return passhash.Verify(hash, pass), nil
}

// StripHeader implements Stripper: the password does not go upstream.
func (b *Basic) StripHeader(h http.Header) {
	if _, _, ok := basicAuth(h.Get("Authorization")); ok {
		delete(h, "Authorization")
	}
}

// StripURL implements Stripper; Basic credentials are never in the URL.
func (b *Basic) StripURL(*url.URL) {}

var (
	_ Method   = (*Basic)(nil)
	_ Stripper = (*Basic)(nil)
)
