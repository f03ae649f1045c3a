package config_test

import (
	"net/netip"
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

// FuzzParseByteSize: a size (YAML, --chunk-size) is never negative, and its String reads
// back as the same size.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"50MiB", "1.5 GB/s", "1048576", "0", "-1", "1e3", "9223372036854775807", "8EiB", ".", "1.5B", " 2 kib "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := config.ParseByteSize(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseByteSize(%q): empty error", s)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseByteSize(%q) = %d", s, n)
		}
		if back, err := config.ParseByteSize(n.String()); err != nil || back != n {
			t.Fatalf("ParseByteSize(%q) = %d prints %q, read back as %d (%v)", s, n, n.String(), back, err)
		}
	})
}

// FuzzParsePrefix: a trusted proxy (an address or a CIDR) is a valid prefix with no host
// bits set, that contains the address it was written with as a peer's address reads
// (unmapped from ::ffff:0:0/96).
func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/8", "10.1.2.3/8", "::1", "fe80::1%eth0", "::ffff:1.2.3.4/104", "::ffff:1.2.3.4", "::ffff:0.0.0.0/90", "1.2.3.4/33", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return
		}
		addr, _, _ := strings.Cut(s, "/")
		ip, aerr := netip.ParseAddr(addr)
		if p.Addr().Is4() {
			ip = ip.Unmap()
		}
		if !p.IsValid() || p != p.Masked() || aerr != nil || !p.Contains(ip) {
			t.Fatalf("ParsePrefix(%q) = %v (valid %v), does not contain %v (%v)", s, p, p.IsValid(), ip, aerr)
		}
	})
}
