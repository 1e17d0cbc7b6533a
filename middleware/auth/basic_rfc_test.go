package auth

// Test cases named after the requirements of RFC 7617 (the Basic
// scheme) that a server has; requirements.md lists them by section.

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func bcryptOf(t testing.TB, pass string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// basicVerdict is the class of b's answer to an Authorization value.
func basicVerdict(b *Basic, v string) string {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", v)
	_, err := b.Authenticate(r)
	return class(err)
}

func std64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestRFC7617(t *testing.T) {
	t.Run("7617 2 the challenge names the realm", func(t *testing.T) {
		b, err := NewBasic(BasicOptions{Realm: "staff"})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Challenge(); got != `Basic realm="staff", charset="UTF-8"` {
			t.Errorf("challenge %s", got)
		}
	})
	t.Run("7617 2 the user-id ends at the first colon; the password may hold colons", func(t *testing.T) {
		if u, p, ok := basicAuth("Basic " + std64("alice:p:w:")); !ok || u != "alice" || p != "p:w:" {
			t.Errorf("%q %q %v", u, p, ok)
		}
		b := newBasicFor(t, "alice", "p:w")
		if got := basicVerdict(b, "Basic "+std64("alice:p:w")); got != "ok" {
			t.Errorf("a password with colons: %s", got)
		}
	})
	t.Run("7617 2 a user-id with a colon cannot be configured", func(t *testing.T) {
		if _, err := NewBasic(BasicOptions{Users: map[string]string{"a:b": bcryptOf(t, "pw")}}); err == nil {
			t.Error("accepted")
		}
	})
	t.Run("7617 2 credentials holding control characters are refused", func(t *testing.T) {
		b := newBasicFor(t, "alice", "p\x01w")
		for _, v := range []string{"alice:p\x01w", "alice\x00:p\x01w", "alice:p\x01w\x7f"} {
			if got := basicVerdict(b, "Basic "+std64(v)); got != "bad" {
				t.Errorf("%q: %s, want bad", v, got)
			}
		}
	})
	t.Run("7617 2 a user-id with a control character cannot be configured", func(t *testing.T) {
		for _, u := range []string{"al\tice", "alice\n", "\x7f"} {
			if _, err := NewBasic(BasicOptions{Users: map[string]string{u: bcryptOf(t, "pw")}}); err == nil {
				t.Errorf("%q accepted", u)
			}
		}
	})
	t.Run("7617 2 credentials that are not base64 are no credentials", func(t *testing.T) {
		b := newBasicFor(t, "alice", "pw")
		for _, v := range []string{"Basic !!!!", "Basic " + std64("alice:pw") + "!", "Basic", "Basic "} {
			if got := basicVerdict(b, v); got != "none" {
				t.Errorf("%q: %s, want none", v, got)
			}
		}
		if got := basicVerdict(b, "Basic "+std64("alice")); got != "none" {
			t.Errorf("no colon: %s, want none", got)
		}
	})
	t.Run("7617 2 the Basic scheme is matched case-insensitively", func(t *testing.T) {
		b := newBasicFor(t, "alice", "pw")
		for _, s := range []string{"Basic", "basic", "BASIC", "bAsIc"} {
			if got := basicVerdict(b, s+" "+std64("alice:pw")); got != "ok" {
				t.Errorf("%s: %s", s, got)
			}
		}
	})
	t.Run("7617 2.1 charset UTF-8 is the only charset announced", func(t *testing.T) {
		b := newBasicFor(t, "alice", "pw")
		if got := b.Challenge(); got != `Basic realm="Gatehouse", charset="UTF-8"` {
			t.Errorf("challenge %s", got)
		}
	})
	t.Run("7617 2.1 UTF-8 user-ids and passwords are supported", func(t *testing.T) {
		b := newBasicFor(t, "josé", "pässwörd ☃")
		if got := basicVerdict(b, "Basic "+std64("josé:pässwörd ☃")); got != "ok" {
			t.Errorf("%s", got)
		}
	})
	t.Run("7617 2.1 credentials that are not UTF-8 are refused", func(t *testing.T) {
		b := newBasicFor(t, "alice", "p\xe4ss") // Latin-1 ä
		if got := basicVerdict(b, "Basic "+std64("alice:p\xe4ss")); got != "bad" {
			t.Errorf("%s, want bad", got)
		}
		if _, err := NewBasic(BasicOptions{Users: map[string]string{"jos\xe9": bcryptOf(t, "pw")}}); err == nil {
			t.Error("a user-id that is not UTF-8 was accepted")
		}
	})
}
