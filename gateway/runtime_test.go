package gateway

import (
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
)

func TestCompileRewrite(t *testing.T) {
	tests := []struct {
		rw   config.Rewrite
		in   string
		want string
	}{
		{config.Rewrite{StripPrefix: "/api"}, "/api/users", "/users"},
		{config.Rewrite{StripPrefix: "/api"}, "/api", "/"},
		{config.Rewrite{StripPrefix: "/api"}, "/api/", "/"},
		{config.Rewrite{StripPrefix: "/api/"}, "/api/users", "/users"},
		{config.Rewrite{AddPrefix: "/v1"}, "/users", "/v1/users"},
		{config.Rewrite{AddPrefix: "/v1/"}, "/users", "/v1/users"},
		{config.Rewrite{StripPrefix: "/api", AddPrefix: "/v1"}, "/api", "/v1"},
		{config.Rewrite{StripPrefix: "/api", AddPrefix: "/v1"}, "/api/", "/v1/"},
		{config.Rewrite{StripPrefix: "/api", AddPrefix: "/v1"}, "/api/a%2Fb", "/v1/a%2Fb"},
		{config.Rewrite{ReplacePrefix: &config.ReplacePrefix{From: "/old", To: "/new"}}, "/old/x", "/new/x"},
		{config.Rewrite{ReplacePrefix: &config.ReplacePrefix{From: "/old", To: "/"}}, "/old/x", "/x"},
		{config.Rewrite{ReplacePrefix: &config.ReplacePrefix{From: "/old", To: "/"}}, "/old", "/"},
	}
	for _, tt := range tests {
		f := compileRewrite(tt.rw)
		if got := f(tt.in); got != tt.want {
			t.Errorf("rewrite %+v of %q = %q, want %q", tt.rw, tt.in, got, tt.want)
		}
	}
	if compileRewrite(config.Rewrite{}) != nil {
		t.Error("empty rewrite should compile to nil")
	}
}
