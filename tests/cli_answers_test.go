package tests

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCLIAnswersOperators checks the answers a new operator meets first:
// the version flags, and a misspelt job in `history` (an error naming the
// known jobs, not an empty list with exit 0).
func TestCLIAnswersOperators(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, errOut, code := xbr(t, ctx, nil, "version")
	if code != 0 || !strings.HasPrefix(want, "xbr ") {
		t.Fatalf("xbr version: exit %d: %q %s", code, want, errOut)
	}
	for _, flag := range []string{"--version", "-v"} {
		if out, errOut, code := xbr(t, ctx, nil, flag); code != 0 || out != want {
			t.Errorf("xbr %s: exit %d: %q %s, want %q", flag, code, out, errOut, want)
		}
	}

	s := startServe(t, nil, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	url := s.natsURL(t)
	out, errOut, code := xbr(t, ctx, nil, "history", "--job", "nosuch", "--nats", url)
	if code != 1 || !strings.Contains(errOut, `no job "nosuch"`) || !strings.Contains(errOut, "demo-nightly") {
		t.Errorf("history --job nosuch: exit %d, stdout %q, stderr %q; want exit 1 naming the known jobs", code, out, errOut)
	}
	if out, errOut, code := xbr(t, ctx, nil, "history", "--job", "demo-nightly", "--json", "--nats", url); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("history --job demo-nightly before any run: exit %d, %q %s; want [] and exit 0", code, out, errOut)
	}
	// A script reading --json output sees a failure on stdout too.
	out, errOut, code = xbr(t, ctx, nil, "backups", "ls", "--remote", "nosuch", "--json", "--nats", url)
	var failed struct {
		Error    string `json:"error"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(out), &failed); code != 1 || err != nil || failed.ExitCode != 1 ||
		!strings.Contains(failed.Error, "nosuch") || !strings.Contains(errOut, failed.Error) {
		t.Errorf("backups ls --remote nosuch --json: exit %d, stdout %q, stderr %q; want {\"error\", \"exit_code\": 1} naming the remote", code, out, errOut)
	}
}
