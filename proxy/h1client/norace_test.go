//go:build !race

package h1client_test

const raceEnabled = false
