package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// badProblems is what gatehouse says about testdata/bad.yaml: every
// problem, in file order, each with file:line:col.
const badProblems = `bad.yaml:5:5: listeners[0].idel_timeout: unknown key "idel_timeout" (did you mean "idle_timeout"?); allowed keys: name, address, read_header_timeout, read_timeout, write_timeout, client_body_timeout, send_timeout, idle_timeout, max_header_bytes, max_header_count, engine, ip_filter, tls, h2c, http3, redirect_https
bad.yaml:7:19: limits.max_body_bytes: expected a size such as 512, 64KiB or 10MiB, got a list
bad.yaml:8:18: limits.drain_timeout: duration 30 has no unit; add one, e.g. 30s or 30ms
bad.yaml:14:15: routes[0].upstream: unknown upstream "apii"; defined: api
bad.yaml:15:5: routes[1].match: matches the same requests as routes[0] (path "/api"); change the host, path, methods or headers of one of them
bad.yaml:18:20: routes[2].static.root: directory "./no-such-dir" does not exist
`

const usageText = `Usage:
  gatehouse [run] [-config FILE]     serve with FILE (default gatehouse.yaml)
  gatehouse validate [-config FILE]  check FILE; list every problem with file:line:column
  gatehouse demo [-listen ADDR]      run a demo site behind Gatehouse (default 127.0.0.1:8080)
  gatehouse version                  print the version and the Go version it was built with
  gatehouse help [COMMAND]           print this help, or only COMMAND's

Flags of run:
  -config FILE
    	serve with the config FILE (default "gatehouse.yaml")

Flags of validate:
  -config FILE
    	check the config FILE (default "gatehouse.yaml")

Flags of demo:
  -listen ADDR
    	listen on ADDR (default "127.0.0.1:8080")

Signals: SIGHUP reloads the config; SIGTERM or SIGINT drains and exits.
`

// runUsage is what `gatehouse run -h` prints.
const runUsage = `Usage: gatehouse run [-config FILE]
  -config FILE
    	serve with the config FILE (default "gatehouse.yaml")
`

// runToEnd runs the binary in testdata and returns what it printed and its
// exit code.
func runToEnd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("gatehouse %s did not finish within %v", strings.Join(args, " "), waitLimit)
	}
	return out.String(), errOut.String(), code
}

func TestCommands(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string
		stderrHead bool // stderr only has to start with the expected text
	}{
		{name: "validate good", args: []string{"validate", "-config", "good.yaml"},
			stdout: "good.yaml: ok\n"},
		{name: "validate bad lists every problem", args: []string{"validate", "-config", "bad.yaml"},
			code: 1, stderr: badProblems},
		{name: "run refuses a bad file", args: []string{"run", "-config", "bad.yaml"},
			code: 1, stderr: "gatehouse: bad.yaml is not valid:\n" + badProblems},
		{name: "run is the default command", args: []string{"-config", "bad.yaml"},
			code: 1, stderr: "gatehouse: bad.yaml is not valid:\n" + badProblems},
		{name: "validate missing file", args: []string{"validate", "-config", "nope.yaml"},
			code: 1, stderr: "read config: open nope.yaml: no such file or directory\n"},
		{name: "version", args: []string{"version"},
			stdout: "gatehouse " + testVersion + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"},
		{name: "help", args: []string{"help"},
			stdout: usageText},
		{name: "-h", args: []string{"-h"},
			stdout: usageText},
		{name: "-help", args: []string{"-help"},
			stdout: usageText},
		{name: "--help", args: []string{"--help"},
			stdout: usageText},
		{name: "run -h", args: []string{"run", "-h"},
			stdout: runUsage},
		{name: "help run", args: []string{"help", "run"},
			stdout: runUsage},
		{name: "help of an unknown command", args: []string{"help", "frobnicate"},
			code: 2, stderr: "gatehouse: unknown command \"frobnicate\"\n\n" + usageText},
		{name: "validate -h", args: []string{"validate", "--help"},
			stdout: "Usage: gatehouse validate [-config FILE]\n  -config FILE\n    \tcheck the config FILE (default \"gatehouse.yaml\")\n"},
		{name: "unknown command", args: []string{"frobnicate"},
			code: 2, stderr: "gatehouse: unknown command \"frobnicate\"\n\n" + usageText},
		{name: "unknown flag", args: []string{"validate", "-no-such-flag"},
			code: 2, stderr: "flag provided but not defined: -no-such-flag\nUsage: gatehouse validate [-config FILE]\n", stderrHead: true},
		{name: "unknown flag of the default command", args: []string{"-no-such-flag"},
			code: 2, stderr: "flag provided but not defined: -no-such-flag\n" + runUsage},
		{name: "stray argument", args: []string{"validate", "good.yaml"},
			code: 2, stderr: "gatehouse validate: unexpected argument \"good.yaml\"\nUsage: gatehouse validate [-config FILE]\n", stderrHead: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runToEnd(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if stdout != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tc.stdout)
			}
			if tc.stderrHead && !strings.HasPrefix(stderr, tc.stderr) || !tc.stderrHead && stderr != tc.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, tc.stderr)
			}
		})
	}
}

// validate passes a config with warnings, and prints them.
func TestValidateWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warn.yaml")
	os.WriteFile(path, []byte("listeners: [{address: \":0\"}]\nroutes:\n  - {match: {path: /}, respond: {body: hi}}\ndefault_route: {respond: {status: 404}}\n"), 0o600)
	var out, errb strings.Builder
	code := dispatch([]string{"validate", "-config", path}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), ": ok") ||
		!strings.Contains(errb.String(), "warning: "+path+":4:1: default_route: never used") {
		t.Errorf("exit %d, stdout %q, stderr %q; want ok and the warning with its position", code, out.String(), errb.String())
	}
}
