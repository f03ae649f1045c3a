package export_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"xbr/events"
	"xbr/functions/export"
)

// callsOfOneBackup backs up the first VM of a pool of n VMs with the worker
// and returns the XAPI calls that backup made, per method.
func callsOfOneBackup(t *testing.T, n int) map[string]int {
	t.Helper()
	e := newEnv(t, n, fmt.Sprintf(oneVMJob, "nightly", "local", "none", "none", 0), false)
	req := startRun(t, e, "nightly", "run-calls")
	before := e.sim.Calls()
	outs, err := export.NewWorker(e.deps).Handle(context.Background(), requested(t, req, 1))
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportCompleted) {
		t.Fatalf("pool of %d: %v %+v", n, err, outs)
	}
	return callDelta(before, e.sim.Calls())
}

// polls are the calls whose number depends on timing, not on the work:
// WaitTask polls a task's record until it ends.
var polls = map[string]bool{"task.get_record": true}

// callDelta is after minus before, without zero entries and polls.
func callDelta(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for m, n := range after {
		if d := n - before[m]; d != 0 && !polls[m] {
			out[m] = d
		}
	}
	return out
}

// TestCallsPerBackupFlatInPoolSize: one VM's backup makes the same XAPI
// calls in a pool of 10 VMs and in a pool of 500, and none of them is a
// pool-wide get_all_records (issue 19: each export read every VM record
// of the pool, O(N²) per run).
func TestCallsPerBackupFlatInPoolSize(t *testing.T) {
	small := callsOfOneBackup(t, 10)
	large := callsOfOneBackup(t, 500)
	for m := range large {
		if m == "VM.get_all_records" || m == "VDI.get_all_records" || m == "VBD.get_all_records" {
			t.Errorf("a backup calls %s (%d times): pool-wide, per VM", m, large[m])
		}
	}
	if !maps.Equal(small, large) {
		t.Errorf("calls of one backup differ with the pool size:\n 10 VMs: %v\n500 VMs: %v", small, large)
	}
	t.Logf("calls of one VM's backup: %v", large)
}
