package main

import (
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSystemdUnit holds dist/gatehouse.service to the binary: the commands
// it runs are subcommands given only flags they accept, and reload is
// SIGHUP. (Nothing here runs systemd; `systemd-analyze verify` does more.)
func TestSystemdUnit(t *testing.T) {
	unit := readFile(t, "../../dist/gatehouse.service")
	keys := map[string][]string{}
	for line := range strings.Lines(unit) {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	for _, key := range []string{"ExecStartPre", "ExecStart"} {
		if len(keys[key]) != 1 {
			t.Fatalf("%d %s lines, want 1", len(keys[key]), key)
		}
		checkInvocation(t, key, strings.Fields(keys[key][0]))
	}
	if got := keys["ExecReload"]; !slices.Equal(got, []string{"/bin/kill -HUP $MAINPID"}) {
		t.Errorf("ExecReload=%q, want /bin/kill -HUP $MAINPID", got)
	}
	for key, want := range map[string]string{
		"User":                  "gatehouse",
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
		"AmbientCapabilities":   "CAP_NET_BIND_SERVICE",
	} {
		if got := keys[key]; !slices.Equal(got, []string{want}) {
			t.Errorf("%s=%q, want %s", key, got, want)
		}
	}
}

// TestContainerfile holds dist/Containerfile to the module: the builder's
// Go is the one go.mod asks for, and the command it runs is accepted.
func TestContainerfile(t *testing.T) {
	cf := readFile(t, "../../dist/Containerfile")
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindStringSubmatch(readFile(t, "../../go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	goMod := m[1]
	m = regexp.MustCompile(`(?m)^ARG GO_VERSION=(\S+)$`).FindStringSubmatch(cf)
	if m == nil {
		t.Fatal("the Containerfile has no ARG GO_VERSION=...")
	}
	// The image tag may name the release line (1.26) of go.mod's 1.26.0,
	// which is the newest patch release of it.
	if tag := m[1]; tag != goMod && tag+".0" != goMod {
		t.Errorf("the Containerfile builds with Go %s, go.mod says go %s", tag, goMod)
	}
	if !strings.Contains(cf, "FROM docker.io/library/golang:${GO_VERSION}") {
		t.Error("the builder stage does not use ${GO_VERSION}")
	}
	var entry, cmd []string
	for line := range strings.Lines(cf) {
		for prefix, into := range map[string]*[]string{"ENTRYPOINT ": &entry, "CMD ": &cmd} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				if err := json.Unmarshal([]byte(rest), into); err != nil {
					t.Fatalf("%s is not a JSON list: %v", strings.TrimSpace(line), err)
				}
			}
		}
	}
	if len(entry) != 1 {
		t.Fatalf("ENTRYPOINT %q, want the binary alone", entry)
	}
	checkInvocation(t, "ENTRYPOINT and CMD", append(entry, cmd...))
	if !regexp.MustCompile(`(?m)^USER nonroot`).MatchString(cf) {
		t.Error("the image does not run as a non-root user")
	}
	if !strings.Contains(cf, "EXPOSE 80 443 443/udp") {
		t.Error("the image does not expose 80, 443 and 443/udp")
	}
}

// checkInvocation requires args (the binary, then its arguments) to name
// a subcommand and only flags it accepts, with nothing left over.
func checkInvocation(t *testing.T, what string, args []string) {
	t.Helper()
	if len(args) < 2 || !strings.HasSuffix(args[0], "/gatehouse") {
		t.Errorf("%s runs %q, want /.../gatehouse SUBCOMMAND ...", what, args)
		return
	}
	for _, c := range commands() {
		if c.name != args[1] || c.define == nil {
			continue
		}
		fs := c.flagSet()
		c.define(fs)
		fs.SetOutput(io.Discard)
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 {
			t.Errorf("%s: gatehouse %s does not accept %q (%v, left over %q)", what, c.name, args[2:], err, fs.Args())
		}
		return
	}
	t.Errorf("%s runs gatehouse %q, not a subcommand", what, args[1])
}
