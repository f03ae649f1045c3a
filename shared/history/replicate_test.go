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

// TestRatesThinned: progress events come every 400 ms per VM; the rate
// chart keeps about one sample a second per VM, so a long run's samples
// stay as few as they were at the former 5 s period's scale, per VM.
func TestRatesThinned(t *testing.T) {
	evs := []stamped{{0, events.RunStarted{RunID: run1, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0,
		VMs: []events.RunVM{{VMUUID: vmA, VMName: "web-1", Pool: "lab"}, {VMUUID: vmB, VMName: "db-1", Pool: "lab"}}}}}
	for i := 1; i <= 25; i++ { // 10 s of transfer, both VMs
		at := time.Duration(i) * 400 * time.Millisecond
		for _, vm := range []string{vmA, vmB} {
			evs = append(evs, stamped{at, events.ExportProgress{RunID: run1, Job: "nightly", VMUUID: vm,
				Transfer: events.Transfer{Bytes: int64(i) << 20, BytesPerSecond: 2 << 20}}})
		}
	}
	rates := project(t0.Add(time.Minute), build(t, evs)).Rates(run1)
	per := map[string]int{}
	for _, r := range rates {
		per[r.VMUUID]++
	}
	for _, vm := range []string{vmA, vmB} {
		if per[vm] < 8 || per[vm] > 11 {
			t.Errorf("VM %s: %d rate samples for 10 s, want about one a second", vm, per[vm])
		}
	}
}
