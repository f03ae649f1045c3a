package cli_test

import (
	"strings"
	"testing"

	"xbr/shared/testsupport"
)

// TestHistoryWithNoRunSaysSo: an empty history says "no runs", as an
// empty `backups ls` says "no backups", rather than printing nothing; --json
// stays an empty array for scripts.
func TestHistoryWithNoRunSaysSo(t *testing.T) {
	conn := testsupport.StartNATS(t)
	args := []string{"history", "--nats", conn.NATS().ConnectedUrl(), "--data-dir", t.TempDir()}
	if code, out, errOut := run(t, args...); code != 0 || out != "no runs\n" {
		t.Errorf("xbr history: exit %d, stdout %q, stderr %q; want \"no runs\" and exit 0", code, out, errOut)
	}
	if code, out, errOut := run(t, append(args, "--json")...); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("xbr history --json: exit %d, stdout %q, stderr %q; want [] and exit 0", code, out, errOut)
	}
}
