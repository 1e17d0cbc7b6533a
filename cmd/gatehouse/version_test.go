package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	for _, tc := range []struct {
		name     string
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{name: "go install @v1.2.3", version: "v1.2.3", want: "v1.2.3"},
		{name: "a prerelease", version: "v1.3.0-rc.1", want: "v1.3.0-rc.1"},
		{name: "a tagged checkout with changes", version: "v1.2.3+dirty", settings: vcs(rev, "true"), want: "v1.2.3+dirty"},
		{name: "an untagged checkout", version: "v0.0.0-20260102150405-a1b2c3d4e5f6", settings: vcs(rev, "false"),
			want: "dev (a1b2c3d4e5f6)"},
		{name: "an untagged checkout with changes", version: "v0.0.0-20260102150405-a1b2c3d4e5f6+dirty", settings: vcs(rev, "true"),
			want: "dev (a1b2c3d4e5f6, modified)"},
		{name: "after a tag", version: "v1.2.4-0.20260102150405-a1b2c3d4e5f6", settings: vcs(rev, "false"),
			want: "dev (a1b2c3d4e5f6)"},
		{name: "built with -buildvcs=true by an older Go", version: "(devel)", settings: vcs(rev, "true"),
			want: "dev (a1b2c3d4e5f6, modified)"},
		{name: "go install @latest of an untagged commit", version: "v0.0.0-20260102150405-a1b2c3d4e5f6",
			want: "v0.0.0-20260102150405-a1b2c3d4e5f6"},
		{name: "go run, no VCS", version: "(devel)", want: "dev"},
		{name: "nothing", want: "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/gatehouse-proxy/gatehouse", Version: tc.version}, Settings: tc.settings}
			if got := fromBuildInfo(bi); got != tc.want {
				t.Errorf("version %q, want %q", got, tc.want)
			}
		})
	}
	if got := fromBuildInfo(nil); got != "dev" {
		t.Errorf("without build info: %q, want dev", got)
	}
}

// TestVersionOfACheckout builds the binary from this checkout without
// -ldflags, as `go build ./cmd/gatehouse` does, and requires `gatehouse
// version` to name the commit it was built from. (The -ldflags override is
// TestCommands' version case: TestMain stamps testVersion.)
func TestVersionOfACheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head := func() string {
		out, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			t.Skipf("not a git checkout here: %v", err)
		}
		return strings.TrimSpace(string(out))[:12]
	}
	before := head()
	bin := filepath.Join(t.TempDir(), "gatehouse")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	after := head() // others may commit meanwhile
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^gatehouse dev \(([0-9a-f]{12})(, modified)?\) (\S+ \S+)\n$`).FindStringSubmatch(string(out))
	switch {
	case m == nil:
		t.Fatalf("gatehouse version printed %q, want gatehouse dev (REVISION[, modified]) GOVERSION OS/ARCH", out)
	case m[1] != before && m[1] != after:
		t.Errorf("version names commit %s, want HEAD %s", m[1], after)
	case m[3] != goVersion():
		t.Errorf("Go version %q, want %q", m[3], runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	}
}
