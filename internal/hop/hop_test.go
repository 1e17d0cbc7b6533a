package hop

import "testing"

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
