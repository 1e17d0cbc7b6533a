package policy

import (
	"net/http"
	"reflect"
	"testing"
)

func TestStorable(t *testing.T) {
	tests := []struct {
		name    string
		method  string // GET when empty
		req     http.Header
		status  int // 200 when 0
		resp    http.Header
		partial bool // the body was cut short
		wantOK  bool
		wantWhy string
	}{
		{name: "9111 3 a 200 with max-age is stored", resp: hdr("Cache-Control", "max-age=60"), wantOK: true},
		{name: "9111 3 the request method must be understood: POST is not stored", method: "POST", resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonMethod},
		{name: "9111 3 HEAD responses are not stored (GET responses answer HEAD)", method: "HEAD", resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonMethod},
		{name: "9111 3 the status must be final: 1xx is not stored", status: 103, resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonStatus},
		{name: "9111 3 a status outside 2xx-5xx is not stored", status: 999, resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonStatus},
		{name: "9111 3 a 206 is not stored by a cache that does not combine ranges", status: 206, resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonPartial},
		{name: "9111 3 a 304 is not stored", status: 304, resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonPartial},
		{name: "6585 4 a 429 is not stored, even with max-age", status: 429, resp: hdr("Cache-Control", "public, max-age=60"), wantWhy: ReasonStatus},
		{name: "9111 3.3 an incomplete response is not stored", resp: hdr("Cache-Control", "max-age=60"), partial: true, wantWhy: ReasonIncomplete},
		{name: "9111 5.2.2.5 no-store response is never stored", resp: hdr("Cache-Control", "max-age=60, no-store"), wantWhy: ReasonNoStore},
		{name: "9111 5.2.2.5 no-store is not outweighed by public", resp: hdr("Cache-Control", "public, no-store"), wantWhy: ReasonNoStore},
		{name: "9111 5.2.1.5 request no-store: the response is not stored", req: hdr("Cache-Control", "no-store"), resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonRequestNoStore},
		{name: "9111 5.2.2.3 must-understand with an understood status ignores no-store", resp: hdr("Cache-Control", "max-age=60, must-understand, no-store"), wantOK: true},
		{name: "9111 5.2.2.3 must-understand with a status the cache does not understand is not stored", status: 299, resp: hdr("Cache-Control", "max-age=60, must-understand, no-store"), wantWhy: ReasonStatus},
		{name: "9111 3 a status the cache does not know is stored with explicit freshness and no must-understand", status: 299, resp: hdr("Cache-Control", "max-age=60"), wantOK: true},
		{name: "9111 5.2.2.7 a shared cache does not store unqualified private", resp: hdr("Cache-Control", "private, max-age=60"), wantWhy: ReasonPrivate},
		{name: "9111 5.2.2.7 qualified private allows a shared cache to store the rest", resp: hdr("Cache-Control", `private="Set-Cookie", max-age=60`), wantOK: true},
		{name: "9111 3 private is not a reason for a shared cache to store", status: 599, resp: hdr("Cache-Control", `private="X"`), wantWhy: ReasonNotCacheable},
		{name: "9111 3.5 a response to a request with Authorization is not stored", req: hdr("Authorization", "Bearer x"), resp: hdr("Cache-Control", "max-age=60"), wantWhy: ReasonAuthorization},
		{name: "9111 3.5 public allows storing a response to an authenticated request", req: hdr("Authorization", "Bearer x"), resp: hdr("Cache-Control", "public, max-age=60"), wantOK: true},
		{name: "9111 3.5 must-revalidate allows storing a response to an authenticated request", req: hdr("Authorization", "Bearer x"), resp: hdr("Cache-Control", "max-age=60, must-revalidate"), wantOK: true},
		{name: "9111 3.5 s-maxage allows storing a response to an authenticated request", req: hdr("Authorization", "Bearer x"), resp: hdr("Cache-Control", "s-maxage=60"), wantOK: true},
		{name: "9111 3.5 heuristic freshness does not allow storing a response to an authenticated request", req: hdr("Authorization", "Basic eA=="), resp: hdr("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"), wantWhy: ReasonAuthorization},
		{name: "9111 4.1 a response with Vary: * is not stored", resp: hdr("Cache-Control", "max-age=60", "Vary", "Accept, *"), wantWhy: ReasonVaryStar},
		{name: "9111 3 a 200 without explicit freshness is stored (heuristically cacheable)", resp: hdr("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"), wantOK: true},
		{name: "9111 3 a 404 without explicit freshness is stored (heuristically cacheable)", status: 404, resp: http.Header{}, wantOK: true},
		{name: "9111 3 a 302 without explicit freshness is not stored", status: 302, resp: http.Header{}, wantWhy: ReasonNotCacheable},
		{name: "9111 3 a 302 with Expires is stored", status: 302, resp: hdr("Expires", "Mon, 01 Jan 2024 00:00:00 GMT"), wantOK: true},
		{name: "9111 3 a 500 with public is stored", status: 500, resp: hdr("Cache-Control", "public"), wantOK: true},
		{name: "9111 3 a 503 with s-maxage is stored", status: 503, resp: hdr("Cache-Control", "s-maxage=5"), wantOK: true},
		{name: "9111 3 a 307 with max-age is stored", status: 307, resp: hdr("Cache-Control", "max-age=5"), wantOK: true},
		{name: "9111 3 a 201 without explicit freshness is not stored", status: 201, resp: http.Header{}, wantWhy: ReasonNotCacheable},
		{name: "9111 7.3 Set-Cookie does not inhibit storing", resp: hdr("Cache-Control", "max-age=60", "Set-Cookie", "a=b"), wantOK: true},
		{name: "edge-arch Surrogate-Control no-store prevents storing", resp: hdr("Cache-Control", "max-age=60", "Surrogate-Control", "no-store"), wantWhy: ReasonNoStore},
		{name: "edge-arch Surrogate-Control no-store is not overridden by must-understand", resp: hdr("Cache-Control", "max-age=60, must-understand", "Surrogate-Control", "no-store"), wantWhy: ReasonNoStore},
		{name: "edge-arch Surrogate-Control max-age makes a 302 storable", status: 302, resp: hdr("Surrogate-Control", "max-age=60"), wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, status := tt.method, tt.status
			if method == "" {
				method = http.MethodGet
			}
			if status == 0 {
				status = 200
			}
			req := tt.req
			if req == nil {
				req = http.Header{}
			}
			sd := ApplySurrogate(ParseCacheControl(tt.resp), tt.resp)
			ok, why := Storable(method, req, status, tt.resp, RequestDirectives(req), sd, !tt.partial)
			if ok != tt.wantOK || why != tt.wantWhy {
				t.Errorf("Storable = %v, %q; want %v, %q", ok, why, tt.wantOK, tt.wantWhy)
			}
		})
	}
}

func TestHeuristicallyCacheable(t *testing.T) {
	want := map[int]bool{200: true, 203: true, 204: true, 206: true, 300: true, 301: true, 308: true, 404: true, 405: true, 410: true, 414: true, 501: true}
	t.Run("9110 15.1 heuristically cacheable status codes", func(t *testing.T) {
		for status := 100; status < 600; status++ {
			if got := HeuristicallyCacheable(status); got != want[status] {
				t.Errorf("HeuristicallyCacheable(%d) = %v", status, got)
			}
		}
	})
}

func TestUnderstood(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   bool
	}{
		{"9111 5.2.2.3 200 is understood", 200, true},
		{"9111 5.2.2.3 404 is understood", 404, true},
		{"9111 5.2.2.3 308 is understood", 308, true},
		{"9111 5.2.2.3 206 is not understood: ranges are not combined", 206, false},
		{"9111 5.2.2.3 304 is not understood for storage", 304, false},
		{"9111 5.2.2.3 an unregistered status is not understood", 299, false},
		{"9111 5.2.2.3 an informational status is not understood", 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Understood(tt.status); got != tt.want {
				t.Errorf("Understood(%d) = %v", tt.status, got)
			}
		})
	}
}

func TestStoredHeader(t *testing.T) {
	tests := []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{name: "9111 3.1 all received fields are stored, unrecognized ones included",
			in:   hdr("Content-Type", "text/plain", "X-Unknown", "1", "X-Unknown", "2", "Set-Cookie", "a=b"),
			want: hdr("Content-Type", "text/plain", "X-Unknown", "1", "X-Unknown", "2", "Set-Cookie", "a=b")},
		{name: "9111 3.1 Connection and the fields it names are not stored",
			in:   hdr("Connection", "close, X-Hop", "Connection", "x-other", "X-Hop", "1", "X-Other", "2", "X-Keep", "3"),
			want: hdr("X-Keep", "3")},
		{name: "9111 3.1 fields whose semantics require removal before forwarding are not stored",
			in:   hdr("Keep-Alive", "timeout=5", "Proxy-Connection", "keep-alive", "TE", "trailers", "Transfer-Encoding", "chunked", "Upgrade", "h2c", "Etag", `"a"`),
			want: hdr("Etag", `"a"`)},
		{name: "9111 3.1 proxy authentication fields MUST NOT be stored",
			in:   hdr("Proxy-Authenticate", "Basic", "Proxy-Authentication-Info", "x", "Proxy-Authorization", "y", "Date", "d"),
			want: hdr("Date", "d")},
		{name: "9111 5.2.2.7 a shared cache does not store the fields a qualified private names",
			in:   hdr("Cache-Control", `private="set-cookie, X-User"`, "Set-Cookie", "s=1", "X-User", "alice", "Content-Type", "text/html"),
			want: hdr("Cache-Control", `private="set-cookie, X-User"`, "Content-Type", "text/html")},
		{name: "9111 3.1 trailer-like and unknown fields are left alone",
			in:   hdr("Trailer", "X-Sum", "Surrogate-Control", "max-age=5"),
			want: hdr("Trailer", "X-Sum", "Surrogate-Control", "max-age=5")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.in.Clone()
			got := StoredHeader(tt.in, ParseCacheControl(tt.in))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("StoredHeader = %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.in, before) {
				t.Errorf("StoredHeader modified its input: %v", tt.in)
			}
			for k := range got {
				if len(got[k]) > 0 && len(tt.in[k]) > 0 && &got[k][0] == &tt.in[k][0] {
					t.Errorf("StoredHeader shares the values of %s with its input", k)
				}
			}
		})
	}
}

func TestServeHeader(t *testing.T) {
	tests := []struct {
		name   string
		stored http.Header
		want   http.Header
	}{
		{name: "9111 5.2.2.4 the fields a qualified no-cache names are left out of a response served without validation",
			stored: hdr("Cache-Control", `max-age=60, no-cache="Set-Cookie, x-token"`, "Set-Cookie", "a=b", "X-Token", "t", "Content-Type", "text/plain"),
			want:   hdr("Cache-Control", `max-age=60, no-cache="Set-Cookie, x-token"`, "Content-Type", "text/plain")},
		{name: "9111 5.2.2.4 without a qualified no-cache every stored field is served",
			stored: hdr("Cache-Control", "max-age=60", "Set-Cookie", "a=b"),
			want:   hdr("Cache-Control", "max-age=60", "Set-Cookie", "a=b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := http.Header{}
			ServeHeader(dst, tt.stored, ParseCacheControl(tt.stored))
			if !reflect.DeepEqual(dst, tt.want) {
				t.Errorf("ServeHeader = %v, want %v", dst, tt.want)
			}
			dst.Add("Content-Type", "x")
			if len(tt.stored["Content-Type"]) > 1 {
				t.Errorf("appending to the served header changed the stored one")
			}
		})
	}
}
