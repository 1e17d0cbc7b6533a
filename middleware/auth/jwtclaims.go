package auth

import (
	"bytes"
	"encoding/json"
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
