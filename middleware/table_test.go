package middleware

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/middleware/compress"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit"
)

// The table's invariants: each name once, stages in order (a stage's
// chain is built and run as one block), the reserved kinds present.
func TestTableShape(t *testing.T) {
	rows := Table()
	seen := map[string]bool{}
	for i, r := range rows {
		if seen[r.Name] {
			t.Errorf("row %q listed twice", r.Name)
		}
		seen[r.Name] = true
		if i > 0 && r.Stage < rows[i-1].Stage {
			t.Errorf("row %q (%v) after %q (%v): stages must not go back", r.Name, r.Stage, rows[i-1].Name, rows[i-1].Stage)
		}
	}
	for _, want := range []string{"ip_filter", "cors", "auth", "rate_limit", "cache", "compress", "tracing", "metrics"} {
		if !seen[want] {
			t.Errorf("no row reserved for %q", want)
		}
	}
}

// The README's "Middleware order" lists the table's rows in its order.
func TestREADMEOrder(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "### Middleware order")
	if i < 0 {
		t.Fatal(`README has no "### Middleware order" section`)
	}
	s = s[i:]
	if j := strings.Index(s[4:], "\n#"); j >= 0 {
		s = s[:j+4]
	}
	var got []string
	for _, m := range regexp.MustCompile("(?m)^\\d+\\. `([a-z_]+)`").FindAllStringSubmatch(s, -1) {
		got = append(got, m[1])
	}
	var want []string
	for _, r := range Table() {
		want = append(want, r.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("README lists %v\ntable has    %v", got, want)
	}
}

// TestCompressLevelsAgree holds config's level ranges (what validate
// accepts) equal to what the compress middleware takes.
func TestCompressLevelsAgree(t *testing.T) {
	for enc, r := range config.CompressLevels() {
		if lo, hi := compress.LevelRange(enc); lo != r[0] || hi != r[1] {
			t.Errorf("%s: config accepts %d-%d, compress %d-%d", enc, r[0], r[1], lo, hi)
		}
	}
	if got, want := config.CompressEncodings(), compress.DefaultEncodings(); !slices.Equal(got, want) {
		t.Errorf("config's default encodings %v, compress's %v", got, want)
	}
}

// TestRateLimitKeysAgree holds the key parts config accepts equal to
// those the rate limiter compiles.
func TestRateLimitKeysAgree(t *testing.T) {
	for _, kind := range config.RateLimitKeyKinds() {
		k := kind
		if strings.HasSuffix(k, ":") {
			k += "X-Name"
		}
		if _, err := ratelimit.ParseKey(k, 32, 64); err != nil {
			t.Errorf("config accepts %q, the rate limiter does not: %v", k, err)
		}
	}
}
