//go:build race

package demo_test

func init() { raceBuild = true }
