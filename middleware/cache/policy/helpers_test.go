package policy

import (
	"net/http"
	"time"
)

// hdr builds a header from name/value pairs; a repeated name adds a line.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// cc parses Cache-Control field lines.
func cc(lines ...string) Directives {
	h := http.Header{}
	for _, l := range lines {
		h.Add("Cache-Control", l)
	}
	return ParseCacheControl(h)
}

// dir returns the directives of an empty Cache-Control changed by set.
func dir(set func(*Directives)) Directives {
	d := ParseCacheControl(nil)
	if set != nil {
		set(&d)
	}
	return d
}

// t0 is the reference time of the tests.
var t0 = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

// httpDate formats t as an IMF-fixdate.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func secs(n int) time.Duration { return time.Duration(n) * time.Second }
