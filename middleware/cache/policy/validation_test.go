package policy

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestEntityTagComparison(t *testing.T) {
	tests := []struct {
		name         string
		a, b         string
		strong, weak bool
	}{
		{name: `9110 8.8.3.2 W/"1" and W/"1": weak match only`, a: `W/"1"`, b: `W/"1"`, strong: false, weak: true},
		{name: `9110 8.8.3.2 W/"1" and W/"2": no match`, a: `W/"1"`, b: `W/"2"`},
		{name: `9110 8.8.3.2 W/"1" and "1": weak match only`, a: `W/"1"`, b: `"1"`, weak: true},
		{name: `9110 8.8.3.2 "1" and "1": both match`, a: `"1"`, b: `"1"`, strong: true, weak: true},
		{name: `9110 8.8.3.2 opaque-tags are compared character by character`, a: `"abc"`, b: `"ABC"`},
		{name: `9110 8.8.3 the weak indicator is case-sensitive`, a: `w/"1"`, b: `"1"`},
		{name: `9110 8.8.3 an unquoted tag is malformed and matches nothing`, a: `1`, b: `1`},
		{name: `9110 8.8.3 the empty tag is valid`, a: `""`, b: `""`, strong: true, weak: true},
		{name: `9110 8.8.3 a DQUOTE inside the opaque-tag is malformed`, a: `"a"b"`, b: `"a"b"`},
		{name: `9110 5.6.3 surrounding whitespace is ignored`, a: ` "x" `, b: `"x"`, strong: true, weak: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StrongMatch(tt.a, tt.b); got != tt.strong {
				t.Errorf("StrongMatch(%s, %s) = %v", tt.a, tt.b, got)
			}
			if got := WeakMatch(tt.a, tt.b); got != tt.weak {
				t.Errorf("WeakMatch(%s, %s) = %v", tt.a, tt.b, got)
			}
		})
	}
}

func TestValidatorsFor(t *testing.T) {
	lm := "Tue, 15 Nov 1994 12:45:26 GMT"
	date := "Wed, 16 Nov 1994 12:45:26 GMT"
	tests := []struct {
		name    string
		stored  []http.Header
		wantINM string
		wantIMS string
	}{
		{name: "9111 4.3.1 MUST send the entity tag of the stored response", stored: []http.Header{hdr("Etag", `"a"`)}, wantINM: `"a"`},
		{name: "9111 4.3.1 MUST send the entity tags of every stored response validated", stored: []http.Header{hdr("Etag", `"a"`), hdr("Etag", `W/"b"`), hdr("Etag", `"a"`), hdr()}, wantINM: `"a", W/"b"`},
		{name: "9111 4.3.1 SHOULD send Last-Modified when a single response is validated", stored: []http.Header{hdr("Etag", `"a"`, "Last-Modified", lm, "Date", date)}, wantINM: `"a"`, wantIMS: lm},
		{name: "9111 4.3.1 no If-Modified-Since when several responses are validated", stored: []http.Header{hdr("Last-Modified", lm), hdr("Last-Modified", lm)}},
		{name: "9110 13.1.3 Date stands in for a missing Last-Modified when there is no entity tag", stored: []http.Header{hdr("Date", date)}, wantIMS: date},
		{name: "9110 13.1.3 no Date stand-in when an entity tag validates", stored: []http.Header{hdr("Etag", `"a"`, "Date", date)}, wantINM: `"a"`},
		{name: "9111 4.3.1 an invalid Last-Modified is not sent", stored: []http.Header{hdr("Etag", `"a"`, "Last-Modified", "yesterday")}, wantINM: `"a"`},
		{name: "9111 4.3.1 a malformed entity tag is not sent", stored: []http.Header{hdr("Etag", "abc")}},
		{name: "9111 4.3.1 nothing to send without validators or Date", stored: []http.Header{hdr()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inm, ims := ValidatorsFor(tt.stored)
			if inm != tt.wantINM || ims != tt.wantIMS {
				t.Errorf("ValidatorsFor = %q, %q; want %q, %q", inm, ims, tt.wantINM, tt.wantIMS)
			}
		})
	}
}

func TestSelectFor304(t *testing.T) {
	lm := "Tue, 15 Nov 1994 12:45:26 GMT"
	older := "Wed, 16 Nov 1994 12:45:26 GMT"
	newer := "Thu, 17 Nov 1994 12:45:26 GMT"
	tests := []struct {
		name   string
		resp   http.Header
		stored []http.Header
		want   []int
	}{
		{name: "9111 4.3.4 a strong validator selects every stored response with it",
			resp:   hdr("Etag", `"a"`),
			stored: []http.Header{hdr("Etag", `"a"`), hdr("Etag", `"b"`), hdr("Etag", `"a"`)}, want: []int{0, 2}},
		{name: "9111 4.3.4 MUST NOT update when no stored response has the strong validator",
			resp:   hdr("Etag", `"c"`),
			stored: []http.Header{hdr("Etag", `"a"`), hdr()}},
		{name: "9111 4.3.4 a strong validator does not match a weak stored tag",
			resp:   hdr("Etag", `"a"`),
			stored: []http.Header{hdr("Etag", `W/"a"`)}},
		{name: "9111 4.3.4 a weak validator selects the most recent matching response",
			resp:   hdr("Etag", `W/"a"`),
			stored: []http.Header{hdr("Etag", `"a"`, "Date", older), hdr("Etag", `W/"a"`, "Date", newer), hdr("Etag", `"b"`, "Date", newer)}, want: []int{1}},
		{name: "9111 4.3.4 Last-Modified alone is a weak validator: the most recent match",
			resp:   hdr("Last-Modified", lm),
			stored: []http.Header{hdr("Last-Modified", lm, "Date", newer), hdr("Last-Modified", lm, "Date", older), hdr("Last-Modified", older)}, want: []int{0}},
		{name: "9111 4.3.4 every weak validator of the 304 must match",
			resp:   hdr("Etag", `W/"a"`, "Last-Modified", lm),
			stored: []http.Header{hdr("Etag", `W/"a"`, "Last-Modified", older), hdr("Etag", `W/"a"`, "Last-Modified", lm)}, want: []int{1}},
		{name: "9111 4.3.4 a weak validator no stored response has selects nothing",
			resp:   hdr("Etag", `W/"z"`),
			stored: []http.Header{hdr("Etag", `"a"`)}},
		{name: "9111 4.3.4 no validator: the only stored response, if it has none either",
			resp:   hdr("Date", newer),
			stored: []http.Header{hdr("Date", older)}, want: []int{0}},
		{name: "9111 4.3.4 no validator: nothing when the stored response has one",
			resp:   hdr(),
			stored: []http.Header{hdr("Etag", `"a"`)}},
		{name: "9111 4.3.4 no validator: nothing when several responses are stored",
			resp:   hdr(),
			stored: []http.Header{hdr(), hdr()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SelectFor304(tt.resp, tt.stored); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SelectFor304 = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMostRecent(t *testing.T) {
	tests := []struct {
		name   string
		stored []http.Header
		want   int
	}{
		{name: "9111 4 the most recent response by Date is used", stored: []http.Header{hdr("Date", "Tue, 15 Nov 1994 12:45:26 GMT"), hdr("Date", "Thu, 17 Nov 1994 12:45:26 GMT"), hdr("Date", "Wed, 16 Nov 1994 12:45:26 GMT")}, want: 1},
		{name: "9111 4 a response without Date counts as the oldest", stored: []http.Header{hdr(), hdr("Date", "Tue, 15 Nov 1994 12:45:26 GMT")}, want: 1},
		{name: "9111 4 of equally recent responses the first", stored: []http.Header{hdr(), hdr()}, want: 0},
		{name: "9111 4 nothing stored", want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MostRecent(tt.stored); got != tt.want {
				t.Errorf("MostRecent = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFreshen(t *testing.T) {
	tests := []struct {
		name   string
		stored http.Header
		update http.Header
		want   http.Header
	}{
		{name: "9111 3.2 MUST add each field of the update, replacing stored values",
			stored: hdr("Cache-Control", "max-age=60", "Date", "old", "Etag", `"a"`, "X-Kept", "1"),
			update: hdr("Cache-Control", "max-age=600", "Date", "new", "X-New", "a", "X-New", "b"),
			want:   hdr("Cache-Control", "max-age=600", "Date", "new", "Etag", `"a"`, "X-Kept", "1", "X-New", "a", "X-New", "b")},
		{name: "9111 3.2 Content-Length is not updated",
			stored: hdr("Content-Length", "1000"),
			update: hdr("Content-Length", "0"),
			want:   hdr("Content-Length", "1000")},
		{name: "9111 3.2 Content-Range, processed by the recipient, is omitted",
			stored: hdr(),
			update: hdr("Content-Range", "bytes 0-1/2"),
			want:   hdr()},
		{name: "9111 3.2 fields excepted from storage are not updated",
			stored: hdr("Etag", `"a"`),
			update: hdr("Connection", "x-hop", "X-Hop", "1", "Keep-Alive", "timeout=5", "Proxy-Authenticate", "Basic", "Transfer-Encoding", "chunked"),
			want:   hdr("Etag", `"a"`)},
		{name: "9111 3.2 fields a qualified private names in the update are not stored",
			stored: hdr("Etag", `"a"`),
			update: hdr("Cache-Control", `max-age=5, private="X-User"`, "X-User", "alice"),
			want:   hdr("Etag", `"a"`, "Cache-Control", `max-age=5, private="X-User"`)},
		{name: "9111 3.2 fields a qualified private names in the stored response stay out",
			stored: hdr("Cache-Control", `max-age=5, private="X-User"`),
			update: hdr("X-User", "alice"),
			want:   hdr("Cache-Control", `max-age=5, private="X-User"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Freshen(tt.stored, tt.update)
			if !reflect.DeepEqual(tt.stored, tt.want) {
				t.Errorf("Freshen = %v, want %v", tt.stored, tt.want)
			}
			for k, v := range tt.update {
				if s := tt.stored[k]; len(s) > 0 && len(v) > 0 && &s[0] == &v[0] {
					t.Errorf("stored shares the values of %s with the update", k)
				}
			}
		})
	}
}

func TestHeadInvalidates(t *testing.T) {
	stored := hdr("Etag", `"a"`, "Last-Modified", "Tue, 15 Nov 1994 12:45:26 GMT", "Content-Length", "42")
	tests := []struct {
		name   string
		stored http.Header
		head   http.Header
		want   bool
	}{
		{name: "9111 4.3.5 matching validators and Content-Length: update the stored response", stored: stored, head: hdr("Etag", `"a"`, "Last-Modified", "Tue, 15 Nov 1994 12:45:26 GMT", "Content-Length", "42")},
		{name: "9111 4.3.5 a different ETag: the stored response is stale", stored: stored, head: hdr("Etag", `"b"`, "Last-Modified", "Tue, 15 Nov 1994 12:45:26 GMT", "Content-Length", "42"), want: true},
		{name: "9111 4.3.5 a different Last-Modified: the stored response is stale", stored: stored, head: hdr("Etag", `"a"`, "Last-Modified", "Wed, 16 Nov 1994 12:45:26 GMT"), want: true},
		{name: "9111 4.3.5 a different Content-Length: the stored response is stale", stored: stored, head: hdr("Etag", `"a"`, "Last-Modified", "Tue, 15 Nov 1994 12:45:26 GMT", "Content-Length", "43"), want: true},
		{name: "9111 4.3.5 no Content-Length in the HEAD response: only validators count", stored: stored, head: hdr("Etag", `"a"`, "Last-Modified", "Tue, 15 Nov 1994 12:45:26 GMT")},
		{name: "9111 4.3.5 a validator that vanished counts as a change", stored: stored, head: hdr("Last-Modified", "Tue, 15 Nov 1994 12:45:26 GMT"), want: true},
		{name: "9111 4.3.5 a validator that appeared counts as a change", stored: hdr("Content-Length", "42"), head: hdr("Etag", `"a"`, "Content-Length", "42"), want: true},
		{name: "9111 4.3.5 without validators a matching Content-Length updates", stored: hdr("Content-Length", "42"), head: hdr("Content-Length", "42")},
		{name: "9111 4.3.5 a Content-Length the stored response lacks counts as a change", stored: hdr("Etag", `"a"`), head: hdr("Etag", `"a"`, "Content-Length", "42"), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HeadInvalidates(tt.stored, tt.head); got != tt.want {
				t.Errorf("HeadInvalidates = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluateConditional(t *testing.T) {
	lm := "Tue, 15 Nov 1994 12:45:26 GMT"
	stored := hdr("Etag", `"v1"`, "Last-Modified", lm, "Date", "Wed, 16 Nov 1994 12:45:26 GMT")
	before := "Mon, 14 Nov 1994 12:45:26 GMT"
	after := "Thu, 17 Nov 1994 12:45:26 GMT"
	tests := []struct {
		name   string
		method string // GET when empty
		req    http.Header
		stored http.Header // stored when nil
		want   int
	}{
		{name: "9110 13.2.2 no precondition: proceed", req: hdr(), want: 0},
		{name: "9110 13.1.2 If-None-Match matching the stored ETag: 304", req: hdr("If-None-Match", `"v0", "v1"`), want: 304},
		{name: "9110 13.1.2 If-None-Match uses the weak comparison", req: hdr("If-None-Match", `W/"v1"`), want: 304},
		{name: "9110 13.1.2 If-None-Match matching no stored ETag: proceed", req: hdr("If-None-Match", `"v0"`), want: 0},
		{name: "9110 13.1.2 If-None-Match: * matches any stored response", req: hdr("If-None-Match", "*"), want: 304},
		{name: "9110 13.1.2 If-None-Match on several lines", req: hdr("If-None-Match", `"x"`, "If-None-Match", `"v1"`), want: 304},
		{name: "9110 13.1.2 If-None-Match for HEAD: 304", method: "HEAD", req: hdr("If-None-Match", `"v1"`), want: 304},
		{name: "9110 13.1.2 If-None-Match against a stored response without ETag: proceed", req: hdr("If-None-Match", `"v1"`), stored: hdr("Last-Modified", lm), want: 0},
		{name: "9110 13.1.3 If-Modified-Since is ignored when If-None-Match is present", req: hdr("If-None-Match", `"v0"`, "If-Modified-Since", after), want: 0},
		{name: "9110 13.1.3 If-Modified-Since not before Last-Modified: 304", req: hdr("If-Modified-Since", lm), want: 304},
		{name: "9110 13.1.3 If-Modified-Since after Last-Modified: 304", req: hdr("If-Modified-Since", after), want: 304},
		{name: "9110 13.1.3 If-Modified-Since before Last-Modified: proceed", req: hdr("If-Modified-Since", before), want: 0},
		{name: "9110 13.1.3 an invalid If-Modified-Since is ignored", req: hdr("If-Modified-Since", "yesterday"), want: 0},
		{name: "9110 13.1.3 an If-Modified-Since with more than one member is ignored", req: hdr("If-Modified-Since", lm+", "+after), want: 0},
		{name: "9110 13.1.3 several If-Modified-Since lines are ignored", req: hdr("If-Modified-Since", lm, "If-Modified-Since", after), want: 0},
		{name: "9110 13.1.3 If-Modified-Since is ignored without a modification date", req: hdr("If-Modified-Since", after), stored: hdr("Etag", `"v1"`), want: 0},
		{name: "9111 4.3.2 without Last-Modified the stored Date is used for If-Modified-Since", req: hdr("If-Modified-Since", after), stored: hdr("Date", "Wed, 16 Nov 1994 12:45:26 GMT"), want: 304},
		{name: "9111 4.3.2 without Last-Modified a later Date means modified", req: hdr("If-Modified-Since", before), stored: hdr("Date", "Wed, 16 Nov 1994 12:45:26 GMT"), want: 0},
		{name: "9110 13.1.3 If-Modified-Since applies only to GET and HEAD", method: "POST", req: hdr("If-Modified-Since", after), want: 0},
		{name: "9111 4.3.2 a cache does not evaluate If-Match", req: hdr("If-Match", `"other"`), want: 0},
		{name: "9111 4.3.2 a cache does not evaluate If-Unmodified-Since", req: hdr("If-Unmodified-Since", before), want: 0},
		{name: "9110 13.2.2 If-Match does not stop If-None-Match at a cache", req: hdr("If-Match", `"other"`, "If-None-Match", `"v1"`), want: 304},
		{name: "9110 13.2.1 preconditions are ignored for methods that select no representation", method: "OPTIONS", req: hdr("If-None-Match", "*"), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, s := tt.method, tt.stored
			if method == "" {
				method = http.MethodGet
			}
			if s == nil {
				s = stored
			}
			if got := EvaluateConditional(method, tt.req, s); got != tt.want {
				t.Errorf("EvaluateConditional = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestHasOriginPreconditions(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want bool
	}{
		{"9110 13.2.2 If-Match is for the origin server", hdr("If-Match", `"a"`), true},
		{"9110 13.2.2 If-Unmodified-Since is for the origin server", hdr("If-Unmodified-Since", "Tue, 15 Nov 1994 12:45:26 GMT"), true},
		{"9110 13.1.5 If-Range needs range support", hdr("If-Range", `"a"`), true},
		{"9110 13.2.2 If-None-Match is for a cache too", hdr("If-None-Match", `"a"`, "If-Modified-Since", "x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HasOriginPreconditions(tt.h); got != tt.want {
				t.Errorf("HasOriginPreconditions(%v) = %v", tt.h, got)
			}
		})
	}
}

// Freshening after a 304 and then answering the client: the 304 the
// origin sent for the cache's own validators becomes a 200 for a client
// whose tag is not the current one (RFC 9111 4.3.2).
func TestValidationRoundTrip(t *testing.T) {
	t.Run("9111 4.3.2 a 304 whose ETag is not in the client's list becomes a 200", func(t *testing.T) {
		stored := []http.Header{hdr("Etag", `"v2"`, "Cache-Control", "max-age=60", "Date", httpDate(t0))}
		inm, _ := ValidatorsFor(stored)
		if inm != `"v2"` {
			t.Fatalf("If-None-Match = %q", inm)
		}
		notModified := hdr("Etag", `"v2"`, "Cache-Control", "max-age=600", "Date", httpDate(t0.Add(time.Minute)))
		sel := SelectFor304(notModified, stored)
		if !reflect.DeepEqual(sel, []int{0}) {
			t.Fatalf("SelectFor304 = %v", sel)
		}
		Freshen(stored[0], notModified)
		if got := stored[0].Get("Cache-Control"); got != "max-age=600" {
			t.Fatalf("freshened Cache-Control = %q", got)
		}
		client := hdr("If-None-Match", `"v1"`)
		if got := EvaluateConditional("GET", client, stored[0]); got != 0 {
			t.Errorf("client with an old tag: %d, want a full response", got)
		}
		client = hdr("If-None-Match", `"v2"`)
		if got := EvaluateConditional("GET", client, stored[0]); got != 304 {
			t.Errorf("client with the current tag: %d, want 304", got)
		}
	})
}
