package cache

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// FuzzKey checks the key builder: a key starts with the request's URL
// (lower-cased scheme and host, so a key can never cross hosts), sorting
// makes a key independent of the parameters' order, and normalizing twice
// changes nothing.
func FuzzKey(f *testing.F) {
	f.Add("Example.COM:8080", "/a/b", "b=2&a=1&utm_source=x", "sorted")
	f.Add("h", "/", "", "all")
	f.Add("h", "/x", "a=%41&a=1&&", "none")
	f.Fuzz(func(t *testing.T, host, path, query, mode string) {
		if strings.ContainsAny(host, "/?#\x00") || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#\x00") || strings.Contains(query, "#") {
			return
		}
		k := newKeyer(KeyOptions{Query: mode, IgnoreParams: []string{"utm_source"}})
		r := &http.Request{Host: host, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		info := &reqinfo.Info{Scheme: "https", Path: path}
		key := k.key(r, info)
		lower := []byte(host)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		if want := "https://" + string(lower) + path; !strings.HasPrefix(key, want) {
			t.Fatalf("key %q does not start with %q", key, want)
		}
		if rest := key[len("https://"+host+path):]; rest != "" && rest[0] != '?' {
			t.Fatalf("key %q: %q after the path", key, rest)
		}
		if k.sorted {
			parts := strings.Split(query, "&")
			slices.Reverse(parts)
			r2 := &http.Request{Host: host, URL: &url.URL{Path: path, RawQuery: strings.Join(parts, "&")}, Header: http.Header{}}
			if k2 := k.key(r2, info); k2 != key {
				t.Fatalf("sorted keys differ by parameter order: %q %q", key, k2)
			}
			q := normalizeQuery(query, k.ignore)
			if normalizeQuery(q, k.ignore) != q {
				t.Fatalf("normalizing %q twice changes it", query)
			}
		}
	})
}

// FuzzDecodeObject feeds the metadata decoder what a shared Redis could
// hold: it must never panic nor allocate without bound, and what encode
// wrote must come back the same.
func FuzzDecodeObject(f *testing.F) {
	o := &object{status: 200, header: http.Header{"Etag": {`"x"`}, "Set": {"a", "b"}}, requestTime: time.Unix(1, 0), responseTime: time.Unix(2, 0),
		varyNames: []string{"Accept"}, varyValues: []string{"*/*"}, lifetime: time.Minute, surrogate: -1}
	f.Add(o.encode())
	f.Add([]byte{metaVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeObject(b)
		if err != nil {
			return
		}
		again, err := decodeObject(got.encode())
		if err != nil {
			t.Fatalf("re-decoding what encode wrote: %v", err)
		}
		if !bytes.Equal(canonical(again), canonical(got)) {
			t.Fatalf("round trip differs")
		}
	})
}

// canonical is an encoding independent of map order, for comparing.
func canonical(o *object) []byte {
	var b bytes.Buffer
	b.WriteString(o.requestTime.String() + o.responseTime.String() + o.lifetime.String())
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range o.header {
			if !yield(k) {
				return
			}
		}
	}) {
		b.WriteString(k + "=" + strings.Join(o.header[k], "\x01") + "\n")
	}
	b.WriteString(strings.Join(o.varyNames, ",") + strings.Join(o.varyValues, ","))
	return b.Bytes()
}
