// Command gatehouse is a reverse proxy and API gateway.
//
//	gatehouse [run] -config FILE   serve with FILE (default gatehouse.yaml)
//	gatehouse validate -config FILE
//	gatehouse demo [-listen ADDR]  run a demo topology, no setup needed
//	gatehouse version
//	gatehouse help [COMMAND]       the subcommands and their flags
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand. define defines its flags on fs and returns
// what runs it once they are parsed; the flags are also what usage lists.
// help alone has no define: dispatch answers it.
type command struct {
	name    string
	args    string // synopsis of the flags, e.g. "[-config FILE]"
	summary string
	define  func(fs *flag.FlagSet) func(stdout, stderr io.Writer) int
}

// commands is the subcommand table, in the order usage lists it.
func commands() []command {
	return []command{
		{"run", "[-config FILE]", "serve with FILE (default gatehouse.yaml)", defineRun},
		{"validate", "[-config FILE]", "check FILE; list every problem with file:line:column", defineValidate},
		{"demo", "[-listen ADDR]", "run a demo site behind Gatehouse (default 127.0.0.1:8080)", defineDemo},
		{"version", "", "print the version and the Go version it was built with", defineVersion},
		{"help", "[COMMAND]", "print this help, or only COMMAND's", nil},
	}
}

// dispatch runs the subcommand that args[0] names (run when args are
// empty or start with a flag other than -h) and returns the exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	name := "run"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelp(args[0])) {
		name, args = args[0], args[1:]
	}
	if isHelp(name) {
		if len(args) == 0 || isHelp(args[0]) {
			usage(stdout)
			return 0
		}
		name, args = args[0], []string{"-h"} // help CMD is CMD -h
	}
	for _, c := range commands() {
		if c.name == name && c.define != nil {
			return c.run(args, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

// isHelp reports whether a first argument asks for the help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// run parses args and runs c. -h prints c's usage and exits 0; a bad flag
// prints the problem and c's usage and exits 2.
func (c command) run(args []string, stdout, stderr io.Writer) int {
	fs := c.flagSet()
	exec := c.define(fs)
	fs.SetOutput(stderr) // where the flag package reports a bad flag
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		c.usage(stdout)
		return 0
	case err != nil:
		c.usage(stderr)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gatehouse %s: unexpected argument %q\n", c.name, fs.Arg(0))
		c.usage(stderr)
		return 2
	}
	return exec(stdout, stderr)
}

func (c command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.Usage = func() {} // usage is printed by run, to the right stream
	return fs
}

// usage prints one subcommand's synopsis and flags.
func (c command) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: gatehouse %s\n", strings.TrimSpace(c.name+" "+c.args))
	c.flags(w)
}

// flags prints c's flags, if it has any, as the flag package does.
func (c command) flags(w io.Writer) bool {
	if c.define == nil {
		return false
	}
	fs := c.flagSet()
	c.define(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return false
	}
	fs.SetOutput(w)
	fs.PrintDefaults()
	return true
}

// usage prints every subcommand, then the flags of each.
func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage:")
	cs := commands()
	for _, c := range cs {
		line := c.name + " " + c.args
		if c.name == "run" {
			line = "[run] " + c.args
		}
		fmt.Fprintf(w, "  gatehouse %-24s %s\n", strings.TrimSpace(line), c.summary)
	}
	for _, c := range cs {
		var flags strings.Builder
		if c.flags(&flags) {
			fmt.Fprintf(w, "\nFlags of %s:\n%s", c.name, flags.String())
		}
	}
	fmt.Fprint(w, "\nSignals: SIGHUP reloads the config; SIGTERM or SIGINT drains and exits.\n")
}
