// Package passhash checks passwords against the hashes an operator
// writes in a config or an htpasswd file: bcrypt and argon2id only, with
// their cost bounded. Shared by config (which refuses what cannot be
// checked) and the basic authentication method.
package passhash

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Verify compares pass with a bcrypt or argon2id hash in constant time.
func Verify(hash, pass string) bool {
	if strings.HasPrefix(hash, "$argon2id$") {
		p, salt, sum, err := parseArgon2id(hash)
		if err != nil {
			return false
		}
		got := argon2.IDKey([]byte(pass), salt, p.time, p.memory, p.threads, uint32(len(sum)))
		return subtle.ConstantTimeCompare(got, sum) == 1
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) == nil
}

type argon2Params struct {
	memory, time uint32
	threads      uint8
}

// Hash bounds: dearer hashes are refused, so one request cannot cost
// more than about 100 ms of CPU.
const (
	maxBcryptCost   = 12
	maxArgon2Memory = 64 * 1024 // KiB
	maxArgon2Time   = 4
)

// parseArgon2id reads $argon2id$v=19$m=65536,t=3,p=4$SALT$HASH (the
// PHC string format, base64 without padding).
func parseArgon2id(s string) (argon2Params, []byte, []byte, error) {
	var p argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
		return p, nil, nil, errors.New("not an argon2id hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil || threads == 0 || threads > 255 || p.time == 0 || p.memory == 0 {
		return p, nil, nil, fmt.Errorf("argon2id parameters %q are not m=KiB,t=passes,p=threads", parts[3])
	}
	p.threads = uint8(threads)
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	sum, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(sum) < 16 {
		return p, nil, nil, errors.New("argon2id salt or hash is not base64 of at least 8 and 16 bytes")
	}
	return p, salt, sum, nil
}

// Check reports whether h is a hash Verify checks within the cost
// bounds; the error says what is wrong.
func Check(h string) error {
	if strings.HasPrefix(h, "$argon2id$") {
		p, _, _, err := parseArgon2id(h)
		if err != nil {
			return err
		}
		if p.memory > maxArgon2Memory || p.time > maxArgon2Time {
			return fmt.Errorf("argon2id m=%d,t=%d costs more than m=%d,t=%d allows per request", p.memory, p.time, maxArgon2Memory, maxArgon2Time)
		}
		return nil
	}
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil {
		return errors.New("not a bcrypt ($2y$, $2b$, $2a$) or argon2id hash; plain-text passwords are not accepted (make one with: htpasswd -nbB user password)")
	}
	if cost > maxBcryptCost {
		return fmt.Errorf("bcrypt cost %d is more than %d: each login would cost seconds of CPU", cost, maxBcryptCost)
	}
	return nil
}

// ParseHtpasswd reads an htpasswd file: user:hash lines, # comments and
// blank lines ignored. Hashes other than bcrypt and argon2id (MD5-crypt
// $apr1$, SHA1 {SHA}, crypt, plain) are refused with their line.
func ParseHtpasswd(data []byte) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("line %d: not user:hash", n)
		}
		if err := Check(hash); err != nil {
			return nil, fmt.Errorf("line %d (user %q): %w", n, user, err)
		}
		if _, dup := users[user]; dup {
			return nil, fmt.Errorf("line %d: user %q is listed twice", n, user)
		}
		users[user] = hash
	}
	return users, sc.Err()
}
