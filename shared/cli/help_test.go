package cli_test

import (
	"strings"
	"testing"
)

// TestHelpNamesTheNATSToken: XBR_NATS_TOKEN is read by every client
// command; an operator scanning the flags or the top-level help finds it.
func TestHelpNamesTheNATSToken(t *testing.T) {
	_, out, _ := run(t, "--help")
	if !strings.Contains(out, "XBR_NATS_TOKEN") {
		t.Errorf("xbr --help does not name XBR_NATS_TOKEN:\n%s", out)
	}
	_, out, _ = run(t, "jobs", "ls", "--help")
	_, flags, _ := strings.Cut(out, "Flags:")
	if !strings.Contains(flags, "XBR_NATS_TOKEN") {
		t.Errorf("the flags of jobs ls do not name XBR_NATS_TOKEN:\n%s", flags)
	}
}
