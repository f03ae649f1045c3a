package xapi

import (
	"strings"
	"testing"
)

func TestMasterHost(t *testing.T) {
	for _, tc := range []struct{ addr, port, want string }{
		{"10.0.0.2", "", "10.0.0.2"},
		{"10.0.0.2", "8443", "10.0.0.2:8443"},
		{"127.0.0.1:4431", "443", "127.0.0.1:4431"},
		{"fe80::2", "", "[fe80::2]"},
		{"fe80::2", "443", "[fe80::2]:443"},
		{"[fe80::2]", "", "[fe80::2]"},
		{"xcp-2.lab.example", "", "xcp-2.lab.example"},
	} {
		if got, err := masterHost(tc.addr, tc.port); err != nil || got != tc.want {
			t.Errorf("masterHost(%q, %q) = %q, %v; want %q", tc.addr, tc.port, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "evil.example/path", "user@host", "host:99999", "host:x", "a b", "h?q=1"} {
		if got, err := masterHost(bad, ""); err == nil || !strings.Contains(err.Error(), "master address") {
			t.Errorf("masterHost(%q) = %q, %v; want an error naming the address", bad, got, err)
		}
	}
}

// FuzzMasterHost: whatever HOST_IS_SLAVE names, the result is an error or
// a URL host that parses back to a host without path, user or query.
func FuzzMasterHost(f *testing.F) {
	for _, s := range []string{"10.0.0.2", "fe80::2", "[fe80::2]:443", "h:1", "a/b", "@"} {
		f.Add(s, "443")
	}
	f.Fuzz(func(t *testing.T, addr, port string) {
		host, err := masterHost(addr, port)
		if err != nil {
			return
		}
		if strings.ContainsAny(host, "/@?#% ") || host == "" {
			t.Fatalf("masterHost(%q, %q) = %q", addr, port, host)
		}
	})
}
