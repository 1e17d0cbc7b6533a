package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// flatten renders a claim as a string: strings as they are, numbers in
// decimal, booleans, arrays of strings joined by spaces (as scope is),
// anything else as compact JSON. ok is false for null and absent.
func flatten(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") {
			return string(v), true // an integer, exactly as sent
		}
		if f, err := v.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	case []any:
		ss := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return compactJSON(v), true
			}
			ss = append(ss, s)
		}
		return strings.Join(ss, " "), true
	}
	return compactJSON(v), true
}

func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// claimHolds reports whether the claim v holds one of want.
func claimHolds(name string, v any, want []string) bool {
	switch v := v.(type) {
	case nil, map[string]any:
		return false
	case []any:
		for _, e := range v {
			if s, ok := flatten(e); ok && slices.Contains(want, s) {
				return true
			}
		}
		return false
	case string:
		if name == "scope" || name == "scp" {
			for s := range strings.FieldsSeq(v) {
				if slices.Contains(want, s) {
					return true
				}
			}
			return false
		}
	}
	s, _ := flatten(v)
	return slices.Contains(want, s)
}

// checkRegistered checks the types RFC 7519 4.1 gives the registered
// claims the parser leaves alone: iss, sub and jti are strings, aud a
// string or an array of strings, whether or not this method checks
// their values (exp, nbf and iat, NumericDates, are the parser's). A
// token that breaks them is malformed, and its sub must not become an
// identity by flattening.
func checkRegistered(c map[string]any) error {
	for _, name := range []string{"iss", "sub", "jti"} {
		if v, ok := c[name]; ok {
			if _, ok := v.(string); !ok {
				return fmt.Errorf("the %s claim is not a string", name)
			}
		}
	}
	switch aud := c["aud"].(type) {
	case nil, string:
		if _, present := c["aud"]; present && aud == nil {
			return errors.New("the aud claim is null")
		}
	case []any:
		for _, v := range aud {
			if _, ok := v.(string); !ok {
				return errors.New("the aud claim holds a value that is not a string")
			}
		}
	default:
		return errors.New("the aud claim is neither a string nor an array of strings")
	}
	return nil
}
