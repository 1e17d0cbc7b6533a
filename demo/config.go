package demo

import (
	"os"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/examples"
)

// ConfigFile is the name the demo's config is reported under.
const ConfigFile = "examples/gatehouse.yaml"

// Config loads the example configuration with its variables pointing at
// the running services and the proxy listening on listen.
func (s *Services) Config(listen string) (*config.Config, error) {
	return config.Load(examples.Config, ConfigFile, func(k string) (string, bool) {
		if k == "GATEHOUSE_LISTEN" {
			return listen, true
		}
		if v, ok := s.Env[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	})
}
