// Package examples embeds the example configuration and the demo's static
// assets, so `gatehouse demo` runs exactly the file users read.
package examples

import "embed"

// Config is examples/gatehouse.yaml.
//
//go:embed gatehouse.yaml
var Config []byte

// Assets holds examples/assets, served under /assets by the demo.
//
//go:embed assets
var Assets embed.FS
