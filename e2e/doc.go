// Package e2e tests Gatehouse end to end: every test loads a YAML config
// through config.Load, serves it with server.Server on a loopback port and
// talks to it with real clients (net/http, raw TCP, coder/websocket), with
// real backends behind it (internal/testkit). The package has no non-test
// code besides this comment.
package e2e
