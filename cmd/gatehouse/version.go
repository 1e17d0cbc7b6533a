package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
)

// version, when set at build time with -ldflags "-X main.version=v1.2.3",
// is the version reported, whatever the build info says.
var version = ""

func defineVersion(*flag.FlagSet) func(stdout, stderr io.Writer) int {
	return func(stdout, _ io.Writer) int {
		fmt.Fprintln(stdout, "gatehouse", versionString(), goVersion())
		return 0
	}
}

// goVersion is the Go release and platform the binary was built for, as
// `go version` prints them: "go1.26.0 linux/amd64".
func goVersion() string {
	return runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func versionString() string {
	if version != "" {
		return version
	}
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi)
}

// pseudo matches a Go pseudo-version's time and revision, as in
// v0.0.0-20260102150405-a1b2c3d4e5f6: a build of a commit, not a release.
var pseudo = regexp.MustCompile(`[-.]\d{14}-[0-9a-f]{12}(\+|$)`)

// fromBuildInfo says which code bi was built from:
//   - a release, as `go install .../cmd/gatehouse@v1.2.3` stamps it (with
//     "+dirty" when built from a checkout of that tag with changes);
//   - otherwise, from a checkout, "dev" with the commit and whether the
//     tree had changes: "dev (a1b2c3d4e5f6, modified)";
//   - otherwise the pseudo-version `go install ...@latest` stamps for an
//     untagged commit (such builds carry no VCS settings);
//   - otherwise (no build info, or go run) just "dev".
func fromBuildInfo(bi *debug.BuildInfo) string {
	if bi == nil {
		return "dev"
	}
	v := bi.Main.Version
	if v != "" && v != "(devel)" && !pseudo.MatchString(v) {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			return "dev (" + rev + ", modified)"
		}
		return "dev (" + rev + ")"
	}
	if v != "" && v != "(devel)" {
		return v
	}
	return "dev"
}
