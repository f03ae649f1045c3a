package replicate_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"xbr/functions/replicate"
)

// callsOfOneReplication replicates two VMs of a pool of n VMs to a standby
// pool of n VMs and returns the XAPI calls of the second replication on each
// pool (the first fills the clients' pool views, once per process).
func callsOfOneReplication(t *testing.T, n int) (src, dst map[string]int) {
	t.Helper()
	ctx := context.Background()
	main, standby := startPool(t, "main", n), startPool(t, "standby", n)
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	vms := main.sourceVMs(t)
	var srcBefore, dstBefore map[string]int
	for i, vm := range vms[:2] {
		srcBefore, dstBefore = main.sim.Calls(), standby.sim.Calls()
		if _, err := replicate.Replicate(ctx, main.client, standby.client, spec(vm.UUID, "Local storage", 1),
			replicate.Options{Now: clk.now}); err != nil {
			t.Fatalf("replication %d: %v", i+1, err)
		}
	}
	return delta(srcBefore, main.sim.Calls()), delta(dstBefore, standby.sim.Calls())
}

// delta is after minus before, without zero entries and without
// task.get_record, whose number depends on timing (WaitTask polls).
func delta(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for m, n := range after {
		if d := n - before[m]; d != 0 && m != "task.get_record" {
			out[m] = d
		}
	}
	return out
}

// TestCallsPerReplicationFlatInPoolSize: one VM's replication makes the
// same XAPI calls on both pools whether they hold 10 VMs or 300, and none
// reads every VM record of a pool (it listed the standby pool's VMs twice
// per VM).
func TestCallsPerReplicationFlatInPoolSize(t *testing.T) {
	smallSrc, smallDst := callsOfOneReplication(t, 10)
	largeSrc, largeDst := callsOfOneReplication(t, 300)
	for m := range maps.Keys(largeDst) {
		if strings.HasPrefix(m, "VM.get_all_records") {
			t.Errorf("a replication calls %s on the standby pool", m)
		}
	}
	if !maps.Equal(smallSrc, largeSrc) || !maps.Equal(smallDst, largeDst) {
		t.Errorf("calls differ with the pool size:\n 10 VMs: %v / %v\n300 VMs: %v / %v", smallSrc, smallDst, largeSrc, largeDst)
	}
	t.Logf("source pool: %v; standby pool: %v", largeSrc, largeDst)
}
