package examples_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// tlsFileKey finds the file settings of TLS sections: cert, key, ca and
// ca_root, with a relative path value.
var tlsFileKey = regexp.MustCompile(`(?m)\b(cert|key|ca|ca_root):\s*"?([A-Za-z0-9_./-]+)`)

// writeTLSFiles creates every relative certificate, key and CA file the
// README names: one certificate for example.com, *.example.com and
// localhost, its key and its CA, so every cert/key pair matches.
func writeTLSFiles(t *testing.T, readme []byte) {
	ca := testkit.NewCA(t, "README CA")
	leaf := ca.Issue([]string{"example.com", "*.example.com", "localhost", "127.0.0.1"}, testkit.LeafOptions{})
	src := map[string]string{"cert": leaf.CertFile, "key": leaf.KeyFile, "ca": ca.CertFile, "ca_root": ca.CertFile}
	// Upstream client certificates (files named client...) must be made
	// for client authentication.
	client := ca.Issue([]string{"gatehouse"}, testkit.LeafOptions{Client: true})
	clientSrc := map[string]string{"cert": client.CertFile, "key": client.KeyFile}
	for _, m := range tlsFileKey.FindAllStringSubmatch(string(readme), -1) {
		kind, path := m[1], m[2]
		if filepath.IsAbs(path) || strings.HasPrefix(path, "..") || !strings.Contains(path, ".") {
			continue
		}
		from := src[kind]
		if f, ok := clientSrc[kind]; ok && strings.Contains(filepath.Base(path), "client") {
			from = f
		}
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
