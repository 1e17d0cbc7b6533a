package proxy

import (
	"net/http"
	"net/netip"
	"reflect"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

func TestOutboundHeader(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.2")
	client := netip.MustParseAddr("203.0.113.7")
	tests := []struct {
		name    string
		in      http.Header
		trusted bool
		client  netip.Addr
		fwd     Forwarding
		upgrade string
		want    map[string][]string // nil value: must be absent
	}{
		{
			name: "untrusted peer: forwarding headers replaced",
			in: http.Header{
				"X-Forwarded-For":   {"6.6.6.6"},
				"X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host":  {"evil"},
				"X-Real-Ip":         {"6.6.6.6"},
				"Forwarded":         {"for=6.6.6.6"},
				"Accept":            {"*/*"},
			},
			client: peer,
			want: map[string][]string{
				"X-Forwarded-For":   {"10.0.0.2"},
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  {"example.com"},
				"X-Real-Ip":         {"10.0.0.2"},
				"Forwarded":         nil,
				"Accept":            {"*/*"},
			},
		},
		{
			name:    "trusted peer: chain extended and kept",
			in:      http.Header{"X-Forwarded-For": {"203.0.113.7, 198.51.100.2"}, "X-Forwarded-Proto": {"https"}},
			trusted: true,
			client:  client,
			want: map[string][]string{
				"X-Forwarded-For":   {"203.0.113.7, 198.51.100.2, 10.0.0.2"},
				"X-Forwarded-Proto": {"https"},
				"X-Real-Ip":         {"203.0.113.7"},
			},
		},
		{
			name:    "trusted peer with two XFF lines",
			in:      http.Header{"X-Forwarded-For": {"203.0.113.7", "198.51.100.2"}},
			trusted: true,
			client:  client,
			want:    map[string][]string{"X-Forwarded-For": {"203.0.113.7, 198.51.100.2, 10.0.0.2"}},
		},
		{
			name:    "trusted peer, client known only from Forwarded",
			in:      http.Header{"Forwarded": {"for=203.0.113.7"}},
			trusted: true,
			client:  client,
			want:    map[string][]string{"X-Forwarded-For": {"203.0.113.7, 10.0.0.2"}, "Forwarded": {"for=203.0.113.7"}},
		},
		{
			name: "hop-by-hop removed, Connection-named too",
			in: http.Header{
				"Connection":          {"close, X-Secret"},
				"X-Secret":            {"s"},
				"Keep-Alive":          {"timeout=5"},
				"Proxy-Connection":    {"keep-alive"},
				"Proxy-Authorization": {"Basic x"},
				"Te":                  {"gzip"},
				"Transfer-Encoding":   {"chunked"},
				"Upgrade":             {"websocket"},
				"Trailer":             {"X-T"},
				"X-Keep":              {"k"},
			},
			client: peer,
			want: map[string][]string{
				"Connection": nil, "X-Secret": nil, "Keep-Alive": nil, "Proxy-Connection": nil,
				"Proxy-Authorization": nil, "Te": nil, "Transfer-Encoding": nil, "Upgrade": nil,
				"Trailer": nil, "X-Keep": {"k"},
			},
		},
		{
			name:   "TE: trailers kept",
			in:     http.Header{"Te": {"trailers, gzip"}},
			client: peer,
			want:   map[string][]string{"Te": {"trailers"}},
		},
		{
			name:    "upgrade keeps Connection and Upgrade",
			in:      http.Header{"Connection": {"keep-alive, Upgrade"}, "Upgrade": {"websocket"}},
			client:  peer,
			upgrade: "websocket",
			want:    map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}},
		},
		{
			name:   "Proxy-Authorization passed when configured",
			in:     http.Header{"Proxy-Authorization": {"Basic x"}},
			client: peer,
			fwd:    Forwarding{PassProxyAuthorization: true},
			want:   map[string][]string{"Proxy-Authorization": {"Basic x"}},
		},
		{
			name:   "Forwarded and Via added when configured",
			in:     http.Header{},
			client: peer,
			fwd:    Forwarding{Forwarded: true, Via: true},
			want: map[string][]string{
				"Forwarded": {`for=10.0.0.2;host=example.com;proto=http`},
				"Via":       {"1.1 gatehouse"},
			},
		},
		{
			name:   "no User-Agent: empty one stops Go adding its own",
			in:     http.Header{},
			client: peer,
			want:   map[string][]string{"User-Agent": {""}, "X-Request-Id": {"rid"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: tt.in, Host: "example.com", ProtoMajor: 1, ProtoMinor: 1}
			before := r.Header.Clone()
			info := &reqinfo.Info{Peer: peer, ClientIP: tt.client, Trusted: tt.trusted, Scheme: "http", RequestID: "rid"}
			f := tt.fwd
			f.RequestIDHeader = "X-Request-Id"
			out := f.outboundHeader(r, info, tt.upgrade)
			for k, want := range tt.want {
				got, ok := out[k]
				if want == nil {
					if ok {
						t.Errorf("%s = %q, want absent", k, got)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !reflect.DeepEqual(r.Header, before) {
				t.Errorf("inbound header modified: %v, was %v", r.Header, before)
			}
		})
	}
}

func TestForwardedElementIPv6(t *testing.T) {
	got := forwardedElement(netip.MustParseAddr("2001:db8::1"), "a b", "https")
	want := `for="[2001:db8::1]";host="a b";proto=https`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCopyResponseHeaderDropsHopByHop(t *testing.T) {
	src := http.Header{
		"Connection":        {"X-Internal"},
		"X-Internal":        {"1"},
		"Keep-Alive":        {"timeout=5"},
		"Transfer-Encoding": {"chunked"},
		"Content-Type":      {"text/plain"},
	}
	dst := http.Header{"X-Request-Id": {"rid"}}
	CopyResponseHeader(dst, src)
	want := http.Header{"Content-Type": {"text/plain"}, "X-Request-Id": {"rid"}}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("got %v, want %v", dst, want)
	}
}

func TestIdempotent(t *testing.T) {
	for _, tt := range []struct {
		method string
		key    bool
		want   bool
	}{
		{"GET", false, true}, {"HEAD", false, true}, {"OPTIONS", false, true}, {"PUT", false, true},
		{"DELETE", false, true}, {"POST", false, false}, {"PATCH", false, false}, {"POST", true, true},
	} {
		r := &http.Request{Method: tt.method, Header: http.Header{}}
		if tt.key {
			r.Header.Set("Idempotency-Key", "k")
		}
		if got := idempotent(r); got != tt.want {
			t.Errorf("idempotent(%s, key=%v) = %v, want %v", tt.method, tt.key, got, tt.want)
		}
	}
}

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream":                true,
		"Text/Event-Stream; charset=utf-8": true,
		" text/event-stream ":              true,
		"text/event-streams":               false,
		"text/html":                        false,
		"":                                 false,
	} {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		if got := IsEventStream(h); got != want {
			t.Errorf("IsEventStream(%q) = %v, want %v", ct, got, want)
		}
	}
}
