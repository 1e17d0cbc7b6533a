package upstream

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func stickyPool(tb testing.TB, s StickyCookie) *Pool {
	tb.Helper()
	cfg := Spec{Balance: BalanceSticky, Sticky: s, Targets: urls(
		"http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080",
	)}
	return build(tb, cfg, Options{})
}

func TestSticky(t *testing.T) {
	p := stickyPool(t, StickyCookie{Name: "sid"})
	b, c := p.Targets[1], p.Targets[2]
	tests := []struct {
		name   string
		cookie string // Cookie header; "" = none
		down   *Target
		want   *Target // nil = any (round robin)
		stamp  bool
	}{
		{"honoured", "x=1; sid=" + b.ID, nil, b, false},
		{"honoured quoted", `sid="` + c.ID + `"`, nil, c, false},
		{"missing", "", nil, nil, true},
		{"other cookies only", "x=1; y=2", nil, nil, true},
		{"unknown id", "sid=0123456789abcdef", nil, nil, true},
		{"target down", "sid=" + b.ID, b, nil, true},
		{"target address is not an id", "sid=10.0.0.2:8080", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.down != nil {
				tt.down.st.activeDown.Store(true)
				defer tt.down.st.activeDown.Store(false)
			}
			ch := reqChoice(1)
			if tt.cookie != "" {
				ch.Req.Header.Set("Cookie", tt.cookie)
			}
			got := p.Pick(ch)
			if got == nil || (tt.want != nil && got != tt.want) || got == tt.down {
				t.Fatalf("pick = %v, want %v", got, tt.want)
			}
			h := http.Header{}
			p.Stamp(h, ch, got)
			set := h.Values("Set-Cookie")
			if !tt.stamp {
				if len(set) != 0 {
					t.Errorf("stamped %q though the request had the right cookie", set)
				}
				return
			}
			want := "sid=" + got.ID + "; Path=/; HttpOnly; SameSite=Lax"
			if len(set) != 1 || set[0] != want {
				t.Errorf("Set-Cookie = %q, want %q", set, want)
			}
		})
	}
}

// A retry after the sticky target failed moves the session.
func TestStickyRetryRestamps(t *testing.T) {
	p := stickyPool(t, StickyCookie{Name: "gh_sticky"})
	b := p.Targets[1]
	ch := reqChoice(1, "Cookie", "gh_sticky="+b.ID)
	if got := p.Pick(ch); got != b {
		t.Fatalf("first pick = %s, want b", got.Name)
	}
	got := p.Pick(ch)
	if got == b || got == nil {
		t.Fatalf("retry pick = %v", got)
	}
	h := http.Header{}
	p.Stamp(h, ch, got)
	if v := h.Get("Set-Cookie"); !strings.HasPrefix(v, "gh_sticky="+got.ID+";") {
		t.Errorf("Set-Cookie = %q, want the new target", v)
	}
}

func TestStickyCookieAttributes(t *testing.T) {
	p := stickyPool(t, StickyCookie{Name: "s", MaxAge: time.Hour, Secure: true})
	h := http.Header{}
	tg := p.Pick(reqChoice(1))
	p.Stamp(h, reqChoice(1), tg)
	want := "s=" + tg.ID + "; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure"
	if got := h.Get("Set-Cookie"); got != want {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
	// Stamp on other policies does nothing.
	q := policy(t, "round_robin", 1)
	h = http.Header{}
	q.Stamp(h, reqChoice(1), q.Targets[0])
	if len(h) != 0 {
		t.Errorf("round_robin stamped %v", h)
	}
}

// IDs are short opaque hex, stable, and differ per pool and target.
func TestTargetIDs(t *testing.T) {
	p := stickyPool(t, StickyCookie{Name: "gh_sticky"})
	q := stickyPool(t, StickyCookie{Name: "gh_sticky"})
	hex := regexp.MustCompile(`^[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for i, tg := range p.Targets {
		if !hex.MatchString(tg.ID) || strings.Contains(tg.ID, "10.0.0") {
			t.Errorf("ID %q is not short opaque hex", tg.ID)
		}
		if q.Targets[i].ID != tg.ID {
			t.Errorf("ID of %s differs between builds", tg.Name)
		}
		seen[tg.ID] = true
	}
	if len(seen) != 3 {
		t.Errorf("IDs not distinct: %v", seen)
	}
	if targetID("web", "http://a") == targetID("api", "http://a") {
		t.Error("same ID in two pools")
	}
	if got := targetID("web", "http://10.0.0.1:8080"); got != "5713a176c5de5cb3" {
		t.Errorf("targetID changed: %s", got)
	}
}
