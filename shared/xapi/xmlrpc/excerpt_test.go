package xmlrpc_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"xbr/shared/xapi/xmlrpc"
)

// TestExcerptCutsAtACharacter: an excerpt of outside text quoted in an
// error is at most ExcerptBytes plus "…", and stays valid UTF-8 when the cut
// falls inside a character.
func TestExcerptCutsAtACharacter(t *testing.T) {
	short := "HOST_IS_SLAVE"
	if got := xmlrpc.Excerpt(short); got != short {
		t.Errorf("Excerpt(%q) = %q", short, got)
	}
	for _, s := range []string{strings.Repeat("a", 1000), strings.Repeat("é", 1000), "a" + strings.Repeat("€", 500)} {
		got := xmlrpc.Excerpt(s)
		body, ok := strings.CutSuffix(got, "…")
		if !ok || len(body) > xmlrpc.ExcerptBytes || len(body) < xmlrpc.ExcerptBytes-3 || !utf8.ValidString(got) || !strings.HasPrefix(s, body) {
			t.Errorf("Excerpt of %d bytes of %q…: %d bytes, valid UTF-8 %v: %q", len(s), s[:4], len(got), utf8.ValidString(got), got)
		}
	}
}
