package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// setScalar converts the text of a scalar into v, which is a Duration, a
// Size, or a string, bool, int or float64 kind.
func setScalar(v reflect.Value, s string) error {
	switch v.Type() {
	case durationType:
		d, err := parseDuration(s)
		v.SetInt(int64(d))
		return err
	case sizeType:
		n, err := parseSize(s)
		v.SetInt(int64(n))
		return err
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			return fmt.Errorf("expected true or false, got %q", s)
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.ParseInt(s, 10, strconv.IntSize)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("integer %s is out of range", s)
		} else if err != nil {
			return fmt.Errorf("expected an integer, got %q", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("expected a number, got %q", s)
		}
		v.SetFloat(f)
	default:
		panic("config: no decoding for " + v.Type().String())
	}
	return nil
}

// parseBool accepts the YAML 1.2 spellings of true and false only; "yes",
// "on" and "1" are more likely mistakes than intent.
func parseBool(s string) (value, ok bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// parseDuration parses "5s", "250ms" or "1h30m". A bare number other than 0
// is an error: "30" could mean seconds or milliseconds.
func parseDuration(s string) (Duration, error) {
	if isNumber(s) && s != "0" {
		return 0, fmt.Errorf("duration %s has no unit; add one, e.g. %ss or %sms", s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected a duration such as 5s, 250ms or 1h30m, got %q", s)
	}
	return Duration(d), nil
}

// sizeUnit returns the multiplier of a lower-case unit name.
func sizeUnit(unit string) (int64, bool) {
	switch unit {
	case "", "b":
		return 1, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	case "kib":
		return 1 << 10, true
	case "mib":
		return 1 << 20, true
	case "gib":
		return 1 << 30, true
	case "tib":
		return 1 << 40, true
	}
	return 0, false
}

// parseSize parses a byte count: digits, then optionally a unit (B, KB, MB,
// GB, TB or KiB, MiB, GiB, TiB; any case), optionally separated by a space.
func parseSize(s string) (Size, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("size %s must not be negative", s)
	}
	digits := strings.TrimLeft(s, "0123456789")
	digits = s[:len(s)-len(digits)]
	unit := strings.TrimSpace(s[len(digits):])
	mult, ok := sizeUnit(strings.ToLower(unit))
	if digits == "" || !ok && !isLetters(unit) {
		return 0, fmt.Errorf("expected a size such as 512, 64KiB or 10MiB, got %q", s)
	}
	if !ok {
		return 0, fmt.Errorf("unknown size unit %q; use B, KB, MB, GB, KiB, MiB or GiB", unit)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %s is too large", s)
	}
	return Size(n * mult), nil
}

// isNumber reports whether s is a plain decimal number such as 30 or -1.5.
func isNumber(s string) bool {
	s = strings.TrimLeft(s, "+-")
	whole, frac, _ := strings.Cut(s, ".")
	return whole+frac != "" && strings.Trim(whole+frac, "0123456789") == ""
}

func isLetters(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// expectation describes what a value of type t is written as.
func expectation(t reflect.Type) string {
	switch t {
	case durationType:
		return "a duration such as 5s"
	case sizeType:
		return "a size such as 512, 64KiB or 10MiB"
	case stringsType:
		return "a string or a list of strings"
	case targetType:
		return "a URL or a mapping with url and weight"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	}
	return t.String()
}

// describe names what a node is, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return describe(n.Alias)
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:37]) + "..."
	}
	return strconv.Quote(v)
}
