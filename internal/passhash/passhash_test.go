package passhash

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func bcryptAt(t *testing.T, cost int) string {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func argon2id(m, tm uint32) string {
	salt := []byte("saltsaltsalt")
	return "$argon2id$v=19$m=" + itoa(m) + ",t=" + itoa(tm) + ",p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("pw"), salt, tm, m, 1, 32))
}

// fakeArgon2id has the form and parameters of a hash, without the work.
func fakeArgon2id(m, tm uint32) string {
	return "$argon2id$v=19$m=" + itoa(m) + ",t=" + itoa(tm) + ",p=1$c2FsdHNhbHRzYWx0$" + base64.RawStdEncoding.EncodeToString(make([]byte, 32))
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestCheckAndVerify(t *testing.T) {
	b := bcryptAt(t, 4)
	a := argon2id(1024, 1)
	for _, tc := range []struct {
		hash, err string
		ok        bool // Verify("pw")
	}{
		{b, "", true},
		{"$2y$" + b[4:], "", true}, // htpasswd -B writes $2y$
		{a, "", true},
		{"pw", "plain-text passwords are not accepted", false},
		{"$apr1$abc$def", "not a bcrypt", false},
		{"{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "not a bcrypt", false},
		{"$2a$13$" + b[7:], "bcrypt cost 13 is more than 12", false},
		{fakeArgon2id(128*1024, 1), "costs more than", false},
		{fakeArgon2id(1024, 5), "costs more than", false},
		{"$argon2id$v=19$m=1024,t=1$x$y", "parameters", false},
		{"$argon2id$v=18$m=1024,t=1,p=1$x$y", "not an argon2id hash", false},
	} {
		err := Check(tc.hash)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Check(%.20q) = %v, want %q", tc.hash, err, tc.err)
		}
		if tc.err != "" {
			continue // refused hashes are never checked (and a dear one would take seconds)
		}
		if got := Verify(tc.hash, "pw"); got != tc.ok {
			t.Errorf("Verify(%.20q, pw) = %v", tc.hash, got)
		}
		if Verify(tc.hash, "other") {
			t.Errorf("Verify(%.20q) accepts a wrong password", tc.hash)
		}
	}
}

func TestParseHtpasswd(t *testing.T) {
	b := bcryptAt(t, 4)
	users, err := ParseHtpasswd([]byte("# comment\n\nalice:" + b + "\n  bob:" + argon2id(1024, 1) + "  \n"))
	if err != nil || len(users) != 2 || users["alice"] != b {
		t.Fatalf("users %v, %v", users, err)
	}
	for in, want := range map[string]string{
		"alice\n":                     "line 1: not user:hash",
		"alice:" + b + "\nalice:" + b: `line 2: user "alice" is listed twice`,
		"# x\ncarol:$apr1$abc$def":    `line 2 (user "carol"): not a bcrypt`,
		":" + b:                       "line 1: not user:hash",
	} {
		if _, err := ParseHtpasswd([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseHtpasswd(%.30q) = %v, want %q", in, err, want)
		}
	}
}

// FuzzParseHtpasswd: never panics; whatever it accepts passes Check.
func FuzzParseHtpasswd(f *testing.F) {
	f.Add([]byte("alice:$2a$04$abcdefghijklmnopqrstuu5Lz3lbnmnbYh3dSKRXPFPEJqcbCRwGW\n"))
	f.Add([]byte("# c\nbob:$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ParseHtpasswd(data)
		if err != nil {
			return
		}
		for u, h := range users {
			if u == "" || Check(h) != nil {
				t.Fatalf("accepted %q: %q", u, h)
			}
		}
	})
}
