package policy

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFormatCacheStatus(t *testing.T) {
	tests := []struct {
		name  string
		cache string
		p     CacheStatus
		want  string
	}{
		{name: "9211 3 a minimal hit", cache: "ExampleCache", p: CacheStatus{Hit: true}, want: "ExampleCache;hit"},
		{name: "9211 2.4 a hit with its remaining freshness", cache: "ExampleCache", p: CacheStatus{Hit: true, TTL: secs(376), HasTTL: true}, want: "ExampleCache;hit;ttl=376"},
		{name: "9211 2.4 a stale hit has a negative ttl", cache: "ExampleCache", p: CacheStatus{Hit: true, TTL: secs(-412), HasTTL: true}, want: "ExampleCache;hit;ttl=-412"},
		{name: "9211 2.4 a ttl is rounded down, so a slightly stale response is negative", cache: "c", p: CacheStatus{Hit: true, TTL: -500 * time.Millisecond, HasTTL: true}, want: "c;hit;ttl=-1"},
		{name: "9211 2.4 a ttl of zero is written", cache: "c", p: CacheStatus{Fwd: FwdStale, HasTTL: true}, want: "c;fwd=stale;ttl=0"},
		{name: "9211 2.2 a complete miss", cache: "ExampleCache", p: CacheStatus{Fwd: FwdURIMiss}, want: "ExampleCache;fwd=uri-miss"},
		{name: "9211 2.3 a miss validated with a 304", cache: "ExampleCache", p: CacheStatus{Fwd: FwdStale, FwdStatus: 304}, want: "ExampleCache;fwd=stale;fwd-status=304"},
		{name: "9211 2.6 a miss collapsed with another request", cache: "ExampleCache", p: CacheStatus{Fwd: FwdURIMiss, Collapsed: CollapsedReused}, want: "ExampleCache;fwd=uri-miss;collapsed"},
		{name: "9211 2.6 a collapse that failed is collapsed=?0", cache: "ExampleCache", p: CacheStatus{Fwd: FwdURIMiss, Collapsed: CollapsedFailed}, want: "ExampleCache;fwd=uri-miss;collapsed=?0"},
		{name: "9211 2.5 stored is written with fwd", cache: "ForwardProxyCache", p: CacheStatus{Fwd: FwdURIMiss, Collapsed: CollapsedReused, Stored: true}, want: "ForwardProxyCache;fwd=uri-miss;stored;collapsed"},
		{name: "9211 2.1 hit and fwd are exclusive: hit wins", cache: "c", p: CacheStatus{Hit: true, Fwd: FwdStale, FwdStatus: 200, Stored: true, Collapsed: CollapsedReused}, want: "c;hit"},
		{name: "9211 2.5 stored is only meaningful with fwd", cache: "c", p: CacheStatus{Stored: true, Collapsed: CollapsedReused, FwdStatus: 200}, want: "c"},
		{name: "9211 2.2 an fwd that is not a token is left out", cache: "c", p: CacheStatus{Fwd: "no way"}, want: "c"},
		{name: "9211 2 a cache name that is not a token is a String", cache: "CDN Company Here", p: CacheStatus{Hit: true, TTL: secs(545), HasTTL: true}, want: `"CDN Company Here";hit;ttl=545`},
		{name: "9211 2 a host name is a Token", cache: "cache-3.example.com", p: CacheStatus{Hit: true}, want: "cache-3.example.com;hit"},
		{name: "9211 2 a name starting with a digit is a String", cache: "10.0.0.1", p: CacheStatus{}, want: `"10.0.0.1"`},
		{name: "9211 2.7 the key is a String with escapes", cache: "c", p: CacheStatus{Fwd: FwdMiss, Key: `GET https://a.example/"q"\`}, want: `c;fwd=miss;key="GET https://a.example/\"q\"\\"`},
		{name: "9211 2.8 a token detail", cache: "ExampleCache", p: CacheStatus{Hit: true, Detail: "MEMORY"}, want: "ExampleCache;hit;detail=MEMORY"},
		{name: "9211 2.8 a detail that is not a token is a String", cache: "c", p: CacheStatus{Fwd: FwdBypass, Detail: "no store"}, want: `c;fwd=bypass;detail="no store"`},
		{name: "8941 3.3.3 characters a String cannot hold are replaced", cache: "c", p: CacheStatus{Fwd: FwdMiss, Key: "é\n"}, want: `c;fwd=miss;key="???"`},
		{name: "9211 2.3 a fwd-status that is no status code is left out", cache: "c", p: CacheStatus{Fwd: FwdMiss, FwdStatus: 1 << 50}, want: "c;fwd=miss"},
		{name: "8941 3.3.1 the largest ttl fits an Integer", cache: "c", p: CacheStatus{Hit: true, TTL: -(1 << 63), HasTTL: true}, want: "c;hit;ttl=-9223372037"},
		{name: "9211 2 parameter order", cache: "c", p: CacheStatus{Fwd: FwdRequest, FwdStatus: 200, TTL: secs(3), HasTTL: true, Stored: true, Collapsed: CollapsedFailed, Key: "k", Detail: ReasonNoStore},
			want: `c;fwd=request;fwd-status=200;ttl=3;stored;collapsed=?0;key="k";detail=no-store`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatCacheStatus(tt.cache, tt.p)
			if got != tt.want {
				t.Fatalf("FormatCacheStatus = %s\n                 want %s", got, tt.want)
			}
			if _, _, err := parseSFMember(got); err != nil {
				t.Errorf("not an RFC 8941 list member: %v", err)
			}
		})
	}
}

// Every member FormatCacheStatus writes parses back, as an RFC 8941 list
// member, to the values it was given.
func TestFormatCacheStatusRoundTrip(t *testing.T) {
	names := []struct{ test, cache string }{
		{"8941 4.2 a Token cache name parses back", "ExampleCache"},
		{"8941 4.2 a String cache name parses back", "CDN Company Here"},
		{"8941 4.2 escapes in a String parse back", `a\b"c`},
		{"8941 4.2 a Token starting with * parses back", "*star"},
	}
	for _, n := range names {
		name := n.cache
		for _, p := range []CacheStatus{
			{Hit: true, TTL: secs(-3), HasTTL: true, Key: "k\"", Detail: "x y"},
			{Fwd: FwdVaryMiss, FwdStatus: 503, Stored: true, Collapsed: CollapsedFailed, Detail: "MEMORY"},
		} {
			t.Run(n.test, func(t *testing.T) {
				s := FormatCacheStatus(name, p)
				gotName, params, err := parseSFMember(s)
				if err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				if gotName != name {
					t.Errorf("name %q, want %q", gotName, name)
				}
				want := map[string]any{}
				if p.Hit {
					want["hit"] = true
				} else {
					want["fwd"], want["fwd-status"], want["stored"], want["collapsed"] = p.Fwd, int64(p.FwdStatus), true, false
				}
				if p.HasTTL {
					want["ttl"] = int64(p.TTL / time.Second)
				}
				if p.Key != "" {
					want["key"] = p.Key
				}
				want["detail"] = p.Detail
				if !reflect.DeepEqual(params, want) {
					t.Errorf("%s parsed to %v, want %v", s, params, want)
				}
			})
		}
	}
}

// parseSFMember parses one RFC 8941 list member (section 4.2.1.1) made of
// a Token or String and its parameters. A minimal parser for the tests.
func parseSFMember(s string) (string, map[string]any, error) {
	item, rest, err := parseBareItem(s)
	if err != nil {
		return "", nil, err
	}
	name, ok := item.(string)
	if !ok {
		return "", nil, fmt.Errorf("member is not a token or string")
	}
	params := map[string]any{}
	for rest != "" {
		if rest[0] != ';' {
			return "", nil, fmt.Errorf("expected ';' at %q", rest)
		}
		rest = strings.TrimLeft(rest[1:], " ")
		n := 0
		for n < len(rest) && (rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= '0' && rest[n] <= '9' || strings.IndexByte("_-.*", rest[n]) >= 0) {
			n++
		}
		if n == 0 || rest[0] >= '0' && rest[0] <= '9' {
			return "", nil, fmt.Errorf("bad key at %q", rest)
		}
		key := rest[:n]
		rest = rest[n:]
		var v any = true
		if rest != "" && rest[0] == '=' {
			if v, rest, err = parseBareItem(rest[1:]); err != nil {
				return "", nil, err
			}
		}
		params[key] = v
	}
	return name, params, nil
}

func parseBareItem(s string) (any, string, error) {
	switch {
	case s == "":
		return nil, "", fmt.Errorf("empty item")
	case s[0] == '"':
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\':
				if i+1 == len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
					return nil, "", fmt.Errorf("bad escape")
				}
				i++
				b.WriteByte(s[i])
			case c == '"':
				return b.String(), s[i+1:], nil
			case c < 0x20 || c > 0x7e:
				return nil, "", fmt.Errorf("bad string character %q", c)
			default:
				b.WriteByte(c)
			}
		}
		return nil, "", fmt.Errorf("unterminated string")
	case s[0] == '?':
		if len(s) < 2 || (s[1] != '0' && s[1] != '1') {
			return nil, "", fmt.Errorf("bad boolean")
		}
		return s[1] == '1', s[2:], nil
	case s[0] == '-' || s[0] >= '0' && s[0] <= '9':
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		v, err := strconv.ParseInt(s[:n], 10, 64)
		if err != nil || n > 16 {
			return nil, "", fmt.Errorf("bad integer %q", s[:n])
		}
		return v, s[n:], nil
	case s[0] == '*' || (s[0]|0x20) >= 'a' && (s[0]|0x20) <= 'z':
		n := 1
		for n < len(s) && (isTchar(s[n]) || s[n] == ':' || s[n] == '/') {
			n++
		}
		return s[:n], s[n:], nil
	}
	return nil, "", fmt.Errorf("bad item %q", s)
}
