package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"xbr/events"
)

func TestConfirmFailover(t *testing.T) {
	c := events.DRCopy{CopyRecord: events.CopyRecord{UUID: "c0py", Name: "web-1 - dr - (20261129T010000Z)", Pool: "standby", VMName: "web-1",
		Datetime: time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC), PowerState: "Halted"}, AgeSeconds: 3600, State: "standby"}
	for _, tc := range []struct {
		answer string
		ok     bool
	}{{"web-1\n", true}, {"y\n", true}, {"YES\n", true}, {"\n", false}, {"n\n", false}, {"web\n", false}, {"", false}} {
		var out bytes.Buffer
		ok, _ := confirmFailover(strings.NewReader(tc.answer), &out, "web-1", c, failoverOpts{start: true})
		if ok != tc.ok {
			t.Errorf("answer %q: confirmed %v, want %v", tc.answer, ok, tc.ok)
		}
		for _, want := range []string{c.Name, "standby", "2026-11-29T01:00:00Z", "1h0m0s old", "BOOTED", "refused if the source VM, or another copy of it, is still running"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the question lacks %q:\n%s", want, out.String())
			}
		}
	}
}

// Without a terminal and without --yes nothing is asked, nothing is sent.
func TestFailoverWithoutTerminalNeedsYes(t *testing.T) {
	cmd := newDrFailoverCmd()
	cmd.SetIn(strings.NewReader("y\n"))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"web-1", "--start", "--nats", "nats://127.0.0.1:1"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "not a terminal") || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("failover without a terminal: %v", err)
	}
}

// With --json, the confirmation's question goes to stderr: stdout holds the
// newline-delimited JSON stream alone.
func TestConfirmationKeepsTheJSONStreamClean(t *testing.T) {
	cmd := newDrFailoverCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if w := questionWriter(cmd, true); w != io.Writer(&errOut) {
		t.Fatal("with --json the question is not written to stderr")
	}
	if w := questionWriter(cmd, false); w != io.Writer(&out) {
		t.Fatal("without --json the question is not written to stdout")
	}
}
