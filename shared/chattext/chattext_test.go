package chattext_test

import (
	"strings"
	"testing"

	"xbr/shared/chattext"
)

func TestSlack(t *testing.T) {
	got := chattext.Slack("<!channel> & <https://evil|x>")
	if want := "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;"; got != want {
		t.Fatalf("Slack = %q, want %q", got, want)
	}
}

func TestMattermost(t *testing.T) {
	in := "@channel [x](https://evil) [y]: https://evil"
	got := chattext.Mattermost(in)
	if strings.Contains(got, "@c") || strings.Contains(got, "](") || strings.Contains(got, "]:") {
		t.Fatalf("Mattermost = %q: a mention or a link survives", got)
	}
	if strings.ReplaceAll(got, "\u200b", "") != in {
		t.Fatalf("Mattermost = %q does not read as %q", got, in)
	}
}
