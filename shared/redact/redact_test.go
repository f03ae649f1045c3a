package redact_test

import (
	"strings"
	"testing"

	"xbr/shared/redact"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://xcp.example", "https://xcp.example"},
		{"https://root:pw@xcp.example/", "https://REDACTED@xcp.example/"},
		{"nats://admin:pa/ss@host:1", "nats://REDACTED@host:1"}, // a '/' in the password
		{"nats://admin:pa#ss@host:1", "nats://REDACTED@host:1"}, // a '#' in the password
		{"u:p@host:4222", "REDACTED@host:4222"},                 // no scheme (NATS dials it)
		{"http://tok@s3:7070", "http://REDACTED@s3:7070"},       // a token alone
		{"https://a:b@c@host", "https://REDACTED@host"},         // the last '@' ends the login
		{"http://host:80/x", "http://host:80/x"},                // nothing to hide
	} {
		if got := redact.URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got, want := redact.URLs("nats://a:s1@n1:4222, nats://b:s2@n2:4222,nats://n3"), "nats://REDACTED@n1:4222,nats://REDACTED@n2:4222,nats://n3"; got != want {
		t.Errorf("URLs = %q, want %q", got, want)
	}
}

// FuzzURL: whatever the text, what precedes its last '@' after the scheme
// (the login) is replaced by the marker, and the rest is kept.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"https://root:pw@xcp", "u:p@h", "nats://a:b/c@h:1", "plain", "@", "://@", "0@0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := redact.URL(raw)
		scheme, rest := "", strings.TrimSpace(raw)
		if i := strings.Index(rest, "://"); i >= 0 {
			scheme, rest = rest[:i+3], rest[i+3:]
		}
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			if got != raw {
				t.Fatalf("URL(%q) = %q: changed a URL with no login", raw, got)
			}
			return
		}
		if got != scheme+redact.Marker+rest[at:] {
			t.Fatalf("URL(%q) = %q: want the login %q replaced", raw, got, rest[:at])
		}
	})
}
