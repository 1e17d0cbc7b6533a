package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func withBasic(user, pass string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	return r
}

// Verified credentials skip the hash (so they need no hashing slot); a
// new guess waits for one, bounded by its context.
func TestBasicRemembersAndBounds(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	now := time.Unix(1_700_000_000, 0)
	b, err := NewBasic(BasicOptions{Users: map[string]string{"alice": string(h)}, MaxConcurrent: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(withBasic("alice", "pw")); err != nil {
		t.Fatal(err)
	}
	b.slots <- struct{}{} // every hashing slot busy
	if id, err := b.Authenticate(withBasic("alice", "pw")); err != nil || id.User != "alice" {
		t.Errorf("remembered credentials: %v, %v", id, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Authenticate(withBasic("alice", "guess").WithContext(ctx)); err == nil {
		t.Error("a guess passed without a hashing slot")
	}
	<-b.slots
	now = now.Add(6 * time.Minute) // past CacheFor
	b.slots <- struct{}{}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := b.Authenticate(withBasic("alice", "pw").WithContext(ctx2)); err == nil {
		t.Error("credentials were remembered past CacheFor")
	}
}

// FuzzBasicAuth: the header parser never panics, and what it accepts
// is what was encoded.
func FuzzBasicAuth(f *testing.F) {
	f.Add("alice", "pw")
	f.Add("", ":")
	f.Fuzz(func(t *testing.T, user, pass string) {
		v := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		u, p, ok := basicAuth(v)
		if !ok {
			t.Fatalf("basicAuth(%q) refused a well-formed value", v)
		}
		if wantU, wantP := splitFirst(user + ":" + pass); u != wantU || p != wantP {
			t.Fatalf("basicAuth: %q %q, want %q %q", u, p, wantU, wantP)
		}
		basicAuth(user) // arbitrary text: no panic
	})
}

func splitFirst(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
