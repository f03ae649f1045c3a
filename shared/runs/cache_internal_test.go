package runs

import (
	"testing"

	"xbr/events"
)

// TestDecodedRunsAreCopies: a kept run is returned only at its revision, as
// a copy the caller may change, and an ended run is not kept.
func TestDecodedRunsAreCopies(t *testing.T) {
	var d decodedRuns
	r := Run{ID: "r1", State: "running", VMs: []VM{{UUID: "a", Attempts: []string{"t1"},
		Result: &events.VMResult{VMUUID: "a", Status: "success"}}}}
	d.put(7, r)
	r.VMs[0].Attempts[0] = "changed after put"
	got, ok := d.get("r1", 7)
	if !ok || got.VMs[0].Attempts[0] != "t1" {
		t.Fatalf("get = %+v, %v", got, ok)
	}
	got.VMs[0].Attempts = append(got.VMs[0].Attempts, "t2")
	got.VMs[0].Result.Status = "failure"
	again, _ := d.get("r1", 7)
	if len(again.VMs[0].Attempts) != 1 || again.VMs[0].Result.Status != "success" {
		t.Errorf("a caller's change reached the kept run: %+v", again.VMs[0])
	}
	if _, ok := d.get("r1", 8); ok {
		t.Error("a kept run answered for another revision")
	}
	r.State, r.Status = StateDone, events.StatusSuccess
	d.put(9, r)
	if _, ok := d.get("r1", 9); ok {
		t.Error("an ended run is kept")
	}
}
