//go:build race

package h1client_test

// raceEnabled: the race detector slows everything down.
const raceEnabled = true
