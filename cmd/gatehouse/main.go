// Command gatehouse is a reverse proxy and API gateway.
//
//	gatehouse [run] -config FILE   serve with FILE (default gatehouse.yaml)
//	gatehouse validate -config FILE
//	gatehouse demo [-listen ADDR]  run a demo topology, no setup needed
//	gatehouse version
package main

import (
	"fmt"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var code int
	switch cmd {
	case "run":
		code = run(args)
	case "validate":
		code = validate(args)
	case "demo":
		code = demo(args)
	case "version":
		fmt.Println("gatehouse", versionString())
	case "help", "-h", "--help":
		usage(os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "gatehouse: unknown command %q\n\n", cmd)
		usage(os.Stderr)
		code = 2
	}
	os.Exit(code)
}

func usage(w *os.File) {
	fmt.Fprint(w, `Usage:
  gatehouse [run] [-config FILE]     serve with FILE (default gatehouse.yaml)
  gatehouse validate [-config FILE]  check FILE; list every problem with file:line:column
  gatehouse demo [-listen ADDR]      run a demo site behind Gatehouse (default 127.0.0.1:8080)
  gatehouse version                  print the version

Signals: SIGHUP reloads the config; SIGTERM or SIGINT drains and exits.
`)
}
