package config_test

import (
	"os"
	"strings"
	"testing"

	"xbr/shared/config"
)

// FuzzParse: the loader never panics, every problem line names the file,
// and what it accepts passes Check again. (Secrets in errors: see
// TestSecretsNeverLeak; ${VAR} values of non-secret fields may be shown.)
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	if example, err := os.ReadFile("../../deploy/xbr.example.yaml"); err == nil {
		f.Add(example)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("pools: [{name: x, <<: {url: 'https://h', username: u, password: p}}]\n"))
	lookup := config.WithLookupEnv(func(k string) (string, bool) { return "value-of-" + k, k != "UNSET" })
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("f.yaml", data, lookup)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml") {
					t.Fatalf("problem without the file name: %q", line)
				}
			}
			return
		}
		c.File = ""
		if err := c.Check(); err != nil {
			t.Fatalf("accepted, then rejected: %v", err)
		}
	})
}
