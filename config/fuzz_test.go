package config

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// FuzzLoad checks that Load never panics or hangs, that a failure is always
// a non-empty Problems of non-empty messages, and that a Config it returns
// validates cleanly. testdata/fuzz holds inputs it found.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"",
		L,
		completeSrc,
		R + "  - {upstream: api, match: {path: /a, host: '*.example.com'}}\n",
		L + "upstreams:\n  a: &b {targets: [http://a:1]}\n  c: {<<: *b, balance: p2c}\n",
		L + "log: {level: ${LEVEL:-info}, output: $$x}\n",
		"listeners: [{address: ':1', max_header_bytes: 1GiB, idle_timeout: 1h30m}]\n",
		"a: &a [*a]\n",
		"- a\n- b\n",
		"listeners:\n  - address: :80\n---\nx: 1\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	lookup := env("ROOT", ".", "LEVEL", "debug")
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a bug too; panicking makes the fuzzer keep the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("Load hung on %q", data)) })
		c, err := Load(data, "fuzz.yaml", lookup)
		watchdog.Stop()
		if err == nil {
			if c == nil {
				t.Fatal("Load returned neither a Config nor an error")
			}
			if ps := c.Validate(); len(ps) != 0 {
				t.Fatalf("loaded Config does not validate: %v", ps)
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 || c != nil {
			t.Fatalf("Load = %v, %T %v; want nil and non-empty Problems", c, err, err)
		}
		for _, p := range ps {
			if p.Msg == "" {
				t.Fatalf("problem without a message: %+v", p)
			}
		}
	})
}
