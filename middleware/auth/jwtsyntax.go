package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Where a token comes from, and the checks of its form and header that
// come before and around the signature.

// presented is the token r carries, or why there is none.
func (a *JWT) presented(r *http.Request) (string, error) {
	var raw string
	switch {
	case a.o.Cookie != "":
		c, err := r.Cookie(a.o.Cookie)
		if err != nil {
			return "", fmt.Errorf("jwt: no %s cookie: %w", a.o.Cookie, ErrNoCredentials)
		}
		raw = c.Value
	case a.o.Query != "":
		raw = r.URL.Query().Get(a.o.Query)
	default:
		tok, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			return "", fmt.Errorf("jwt: no bearer token: %w", ErrNoCredentials)
		}
		raw = tok
	}
	switch {
	case raw == "":
		return "", fmt.Errorf("jwt: no token: %w", ErrNoCredentials)
	case len(raw) > maxTokenBytes:
		return "", fmt.Errorf("jwt: the token is over %d bytes: %w", maxTokenBytes, ErrBadCredentials)
	}
	return raw, nil
}

// bearer parses an Authorization: Bearer value (RFC 6750 section 2.1;
// the scheme is case-insensitive, RFC 9110 section 11.1). ok is false
// for another scheme; a Bearer value with a malformed token yields ok
// and a token the parser will refuse, so the client hears it is bad;
// "Bearer" with nothing after it is no token.
func bearer(v string) (tok string, ok bool) {
	v = strings.TrimLeft(v, " \t")
	if len(v) < 7 || !strings.EqualFold(v[:6], "Bearer") || v[6] != ' ' && v[6] != '\t' {
		return "", false
	}
	tok = strings.Trim(v[7:], " \t")
	if tok == "" {
		return "", false
	}
	return tok, true
}

// checkHeader refuses what a JOSE header may hold but this method does
// not support, beyond the alg the parser has checked: crit extensions
// (RFC 7515 4.1.11: none is understood, so any is fatal, "[]" too), a
// nested JWT (cty "JWT", RFC 7519 5.2), a kid that is not a string
// (7515 4.1.4), and a typ naming another kind of JWT (RFC 8725 3.11: a
// logout token or a security event is not an access token; absent,
// "JWT" and access-token types are fine). Other members are ignored
// (7515 4), the keys a header offers (jwk, jku, x5u, x5c) above all.
func checkHeader(h map[string]any) error {
	if _, crit := h["crit"]; crit {
		return errors.New(`the token has "crit" extensions, none of which are understood`)
	}
	if v, ok := h["kid"]; ok {
		if _, ok := v.(string); !ok {
			return errors.New("the kid header is not a string")
		}
	}
	if v, ok := h["cty"]; ok {
		if cty, _ := v.(string); strings.EqualFold(cty, "JWT") {
			return errors.New("nested JWTs (cty JWT) are not supported")
		}
	}
	if v, ok := h["typ"]; ok {
		typ, ok := v.(string)
		if !ok {
			return errors.New("the typ header is not a string")
		}
		if !accessType(typ) {
			return fmt.Errorf("a token of type %q is not an access token", typ)
		}
	}
	return nil
}

// accessType reports whether a typ may be an access token's: any but an
// explicit type of another kind of JWT, "+jwt" other than at+jwt (RFC
// 9068) or a vendor's -at+jwt. Media types are case-insensitive and
// the application/ prefix optional (RFC 7515 4.1.9).
func accessType(typ string) bool {
	t := strings.ToLower(typ)
	t = strings.TrimPrefix(t, "application/")
	return !strings.HasSuffix(t, "+jwt") || t == "at+jwt" || strings.HasSuffix(t, "-at+jwt")
}

// checkCompact refuses a token that is not strictly the JWS Compact
// Serialization (RFC 7515 7.1, 5.2): three base64url segments and
// nothing else, no line breaks or padding (Go's decoder would skip line
// breaks); a header and a payload that are UTF-8 (RFC 7519 7.2, RFC
// 8725 3.7: the JSON decoder would quietly replace bad bytes); and a
// payload that is one JSON object with nothing after it (RFC 7515
// 10.12: the claims decoder would stop after the first value).
func checkCompact(raw string) error {
	dots := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '.':
			dots++
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return fmt.Errorf("the token holds %q, which is not base64url", c)
		}
	}
	if dots != 2 {
		return errors.New("the token is not three segments (a JWE or not a JWS)")
	}
	head, rest, _ := strings.Cut(raw, ".")
	payload, _, _ := strings.Cut(rest, ".")
	enc := base64.RawURLEncoding.Strict()
	h, err := enc.DecodeString(head)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if !utf8.Valid(h) {
		return errors.New("the header is not UTF-8")
	}
	p, err := enc.DecodeString(payload)
	if err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	obj := bytes.TrimLeft(p, " \t\r\n")
	switch {
	case !utf8.Valid(p):
		return errors.New("the claims set is not UTF-8")
	case !json.Valid(p):
		return errors.New("the claims set is not one JSON value")
	case len(obj) == 0 || obj[0] != '{':
		return errors.New("the claims set is not a JSON object")
	}
	return nil
}
