package gateway

import (
	"strings"
	"testing"
)

// FuzzCheckResponseURL: an accepted response_url is absolute http(s) with
// a host and no login; a refusal never quotes the URL (its path is a token).
func FuzzCheckResponseURL(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/commands/T1/2/tok", "http://127.0.0.1:8065/hooks/commands/x",
		"file:///etc/passwd", "https://u:p@h/x", "/rel", "", "https://", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := checkResponseURL(raw)
		if err != nil {
			if len(raw) > 12 && strings.Contains(err.Error(), raw) {
				t.Fatalf("the refusal quotes the URL: %v", err)
			}
			return
		}
		if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			t.Fatalf("accepted %q as %+v", raw, u)
		}
	})
}
