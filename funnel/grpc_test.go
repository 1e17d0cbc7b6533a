package funnel

import (
	"net/http"
	"testing"
)

func TestGRPCMapping(t *testing.T) {
	for status, code := range map[int]int{502: 14, 503: 14, 504: 4, 404: 12, 413: 8, 400: 13, 408: 4, 500: 2, 401: 16, 403: 7, 405: 12, 429: 14, 431: 8} {
		if got := grpcCode(status); got != code {
			t.Errorf("grpcCode(%d) = %d, want %d", status, got, code)
		}
	}
	for ct, want := range map[string]string{
		"application/grpc": "application/grpc", "application/grpc+proto; x=1": "application/grpc+proto",
		"application/grpc-web": "application/grpc-web", "application/grpcfoo": "", "text/plain": "",
	} {
		got, ok := grpcContentType(http.Header{"Content-Type": {ct}})
		if got != want || ok != (want != "") {
			t.Errorf("grpcContentType(%q) = %q %v", ct, got, ok)
		}
	}
	if got := grpcEscape("50% off\n ü"); got != "50%25 off%0A %C3%BC" {
		t.Errorf("grpcEscape = %q", got)
	}
}
