package hop

import (
	"strings"
	"testing"
)

func TestHop(t *testing.T) {
	for k, want := range map[string]bool{"Connection": true, "Te": true, "Transfer-Encoding": true, "Content-Length": false, "X-Keep-Alive": false} {
		if Is(k) != want {
			t.Errorf("Is(%q) = %v", k, !want)
		}
	}
	conn := []string{"keep-alive, X-Secret ", "close"}
	for k, want := range map[string]bool{"X-Secret": true, "x-secret": true, "Close": true, "X-Sec": false, "Keep": false} {
		if Named(conn, k) != want {
			t.Errorf("Named(%q, %q) = %v", conn, k, !want)
		}
	}
}

// fields are the hop-by-hop fields every connection has (RFC 9110
// section 7.6.1 and the deprecated ones proxies still see), canonical.
var fields = [...]string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// TestIs: Is says true for exactly the listed fields, and for nothing
// that differs from one of them by a byte, a letter's case or a length.
func TestIs(t *testing.T) {
	for _, f := range fields {
		if !Is(f) {
			t.Errorf("Is(%q) = false", f)
		}
		for _, near := range []string{f[:len(f)-1], f + "s", "X-" + f, strings.ToLower(f), strings.ToUpper(f)} {
			if Is(near) {
				t.Errorf("Is(%q) = true", near)
			}
		}
	}
}
