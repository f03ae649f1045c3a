package replicate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"xbr/functions/replicate"
	"xbr/shared/xapi"
)

// TestConcurrentReplicationsToOneStandbyPool is what a replicate job with
// two VMs does: both VMs stream into the same standby pool at once. Every
// round must succeed for both (small gzip streams end before the standby
// pool has parsed the archive's header: the end of the body is not a
// cancellation), and each VM keeps exactly one complete copy.
func TestConcurrentReplicationsToOneStandbyPool(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 2), startPool(t, "standby", 1)
	vms := main.sourceVMs(t)
	const rounds = 8
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, len(vms))
		for i, vm := range vms {
			wg.Go(func() {
				s := spec(vm.UUID, "Local storage", 1)
				s.Compression = "gzip"
				_, errs[i] = replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round+1, err)
		}
	}
	for _, vm := range vms {
		if cs := standby.copiesOf(t, vm.UUID); len(cs) != 1 || !cs[0].Standby() {
			t.Errorf("vm %s: copies %+v, want one complete standby copy", vm.NameLabel, cs)
		}
	}
	if snaps := main.sim.Snapshots(); len(snaps) != 0 {
		t.Errorf("%d snapshots left on the source pool", len(snaps))
	}
}

// TestCutExportReportsTheExportsFailure: when the export stream breaks,
// the error names the export's failure first (the root cause), not only
// the import's consequence.
func TestCutExportReportsTheExportsFailure(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	vm := main.sourceVMs(t)[0]
	main.sim.SetFaults(xapisimDrop(64 << 10))
	_, err := replicate.Replicate(ctx, main.client, standby.client, spec(vm.UUID, "Local storage", 1), replicate.Options{})
	if err == nil {
		t.Fatal("a replication whose export was cut succeeded")
	}
	var xe *xapi.Error
	if !errors.As(err, &xe) || xe.Code == xapi.CodeTaskCancelled || !strings.Contains(err.Error(), "read body: export ") {
		t.Fatalf("error %q: want the export's failure first (first XAPI error %v)", err, xe)
	}
}
