package gateway

import (
	"net/netip"
	"strings"
	"testing"

	"xbr/shared/config"
)

// The Host header names this gateway by a configured name or a loopback
// name, with or without a port; an IPv6 literal comes in brackets
// ("[::1]" on port 80, "[::1]:8080" otherwise).
func TestHostNames(t *testing.T) {
	h := newHostNames(config.Gateway{PublicNames: []string{"Backup.Example.org"}}, "127.0.0.1:8080")
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "127.0.0.1:8080": true, "[::1]:8080": true, "[::1]": true,
		"backup.example.org": true, "BACKUP.example.org:443": true,
		"evil.example": false, "10.0.0.1": false, "[::2]": false, "": false, "[::1": false,
	} {
		if got := h.allowed(host); got != want {
			t.Errorf("allowed(%q) = %v, want %v", host, got, want)
		}
	}
}

// FuzzHostAllowed: any Host header is judged without a panic, the same in
// any letter case, and one allowed names a configured or loopback name, or
// is an address while the gateway listens on every address.
func FuzzHostAllowed(f *testing.F) {
	for _, s := range []string{"localhost", "[::1]:8080", "[::1]", "backup.example.org:443", "10.0.0.1", "[", "]:", "a:b:c", ""} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, host string, any bool) {
		listen := "127.0.0.1:8080"
		if any {
			listen = ":8080"
		}
		h := newHostNames(config.Gateway{PublicNames: []string{"backup.example.org"}}, listen)
		got := h.allowed(host)
		if got != h.allowed(strings.ToUpper(host)) {
			t.Fatalf("allowed(%q) differs from its upper case", host)
		}
		if !got {
			return
		}
		name := strings.ToLower(host)
		if i := strings.LastIndex(name, ":"); i >= 0 && !strings.HasSuffix(name, "]") && strings.Count(name, ":") == 1 || strings.HasPrefix(name, "[") {
			if j := strings.LastIndex(name, "]"); strings.HasPrefix(name, "[") && j > 0 {
				name = name[1:j]
			} else if i >= 0 {
				name = name[:i]
			}
		}
		_, err := netip.ParseAddr(name)
		if !h.names[name] && !(any && err == nil) {
			t.Fatalf("allowed(%q) (name %q) though it is neither a known name nor an address on an any-address listener", host, name)
		}
	})
}
