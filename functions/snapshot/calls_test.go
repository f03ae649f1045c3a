package snapshot_test

import (
	"maps"
	"testing"

	"xbr/events"
)

// callsOfOneSnapshot fires the snap job on a pool of n VMs and returns the
// XAPI calls of its first VM's rolling snapshot (task polls left out: their
// number depends on timing).
func callsOfOneSnapshot(t *testing.T, n int) map[string]int {
	t.Helper()
	h := newHarness(t, n, jobs)
	outs := h.due("snap", "hourly")
	req := -1
	for i, o := range outs {
		if _, ok := deliver(t, o).Payload.(events.SnapshotRequested); ok && req < 0 {
			req = i
		}
	}
	if req < 0 {
		t.Fatal("no snapshot.requested")
	}
	before := h.sim.Calls()
	h.handle(outs[req])
	after := h.sim.Calls()
	d := map[string]int{}
	for m, c := range after {
		if c -= before[m]; c != 0 && m != "task.get_record" {
			d[m] = c
		}
	}
	return d
}

// TestCallsPerSnapshotFlatInPoolSize: a VM's rolling snapshot makes the same
// XAPI calls in a pool of 10 VMs and of 300, none of them pool-wide.
func TestCallsPerSnapshotFlatInPoolSize(t *testing.T) {
	small, large := callsOfOneSnapshot(t, 10), callsOfOneSnapshot(t, 300)
	if large["VM.get_all_records"] > 0 || large["VDI.get_all_records"] > 0 {
		t.Errorf("a snapshot reads every record of the pool: %v", large)
	}
	if !maps.Equal(small, large) {
		t.Errorf("calls differ with the pool size:\n 10 VMs: %v\n300 VMs: %v", small, large)
	}
	t.Logf("calls of one rolling snapshot: %v", large)
}
