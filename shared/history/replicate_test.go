package history_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/history"
)

// TestReplicateRunLabel: a replicate job's run is a "replicate run", not a
// "backup run", from its first event on, in the projection and its text.
func TestReplicateRunLabel(t *testing.T) {
	due := events.ScheduleDue{RunID: run1, Job: "dr", Schedule: "hourly", Mode: events.ModeReplicate, FireTime: t0}
	started := events.RunStarted{RunID: run1, Job: "dr", Schedule: "hourly", Mode: events.ModeReplicate, FireTime: t0,
		VMs: []events.RunVM{{VMUUID: vmA, VMName: "web-1", Pool: "lab"}}}
	for _, tc := range []struct {
		name string
		evs  []stamped
	}{
		{"due only", []stamped{{0, due}}},
		{"started", []stamped{{0, due}, {time.Second, started}}},
		{"started without due", []stamped{{time.Second, started}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := project(t0.Add(time.Minute), build(t, tc.evs)).Run(run1)
			if !ok || r.Message != history.KindReplicateRun || !history.IsJobRun(r.Message) {
				t.Fatalf("run = %q (found %v), want %q", r.Message, ok, history.KindReplicateRun)
			}
			var out bytes.Buffer
			if err := history.WriteText(&out, []history.Run{r}); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out.String(), "replicate run "+run1) {
				t.Errorf("text:\n%s", out.String())
			}
		})
	}
	if r, _ := project(t0.Add(time.Hour), build(t, backupRun())).Run(run1); r.Message != history.KindRun || !history.IsJobRun(r.Message) {
		t.Errorf("a full run is labelled %q", r.Message)
	}
}
