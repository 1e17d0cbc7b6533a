package transport

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// caFile writes srv's certificate as a PEM file, to trust it as a CA.
func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f.pem")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TLS values are compared by content: equal while the files are, unequal
// once one changes.
func TestLoadTLSComparable(t *testing.T) {
	srv := newProtoServer(t, true, false)
	ca := caFile(t, srv.Server)
	c := TLS{CAFile: ca, ServerName: "example.com"}
	a, err := LoadTLS(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadTLS(c)
	if !reflect.DeepEqual(a, b) {
		t.Error("two loads of the same files differ")
	}
	data, _ := os.ReadFile(ca)
	if err := os.WriteFile(ca, append(data, data...), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ = LoadTLS(c); reflect.DeepEqual(a, b) {
		t.Error("a changed CA file loads equal")
	}
	if b, _ = LoadTLS(TLS{CAFile: ca, ServerName: "example.com", CA: []byte("ignored")}); !reflect.DeepEqual(b.CA, append(data, data...)) {
		t.Error("contents given to LoadTLS were not replaced by the file's")
	}

	for _, bad := range []TLS{
		{CAFile: filepath.Join(t.TempDir(), "nope.pem")},
		{CAFile: writeFile(t, "not pem")},
		{CertFile: ca},
		{CertFile: ca, KeyFile: writeFile(t, "not a key")},
	} {
		_, err := LoadTLS(bad)
		file := bad.CAFile + bad.KeyFile
		if bad.KeyFile == "" && bad.CAFile == "" {
			file = "cert and key"
		}
		if err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("LoadTLS(%+v) = %v, want an error naming %s", bad, err, file)
		}
	}
}
