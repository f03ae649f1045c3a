package xapi_test

import (
	"context"
	"slices"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestVMDisks: a VM's disks are its non-empty Disk VBDs' VDIs (the
// simulator's own list, without the empty CD drive); a snapshot's are its
// own copies; an unknown VM is an error with XAPI's code.
func TestVMDisks(t *testing.T) {
	sim, url := startSim(t, xapisim.Options{DisksPerVM: 2})
	c := connect(t, url, transports[0].tr)
	ctx := context.Background()
	vm, rec := plainVM(t, c, xapi.Halted)
	var want []string
	for _, info := range sim.VMs() {
		if info.UUID == rec.UUID {
			want = info.VDIs
		}
	}
	disks, err := c.VMDisks(ctx, vm)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(disks); len(want) != 2 || !slices.Equal(got, sorted(want)) {
		t.Fatalf("VMDisks = %v, want the simulator's disks %v", got, want)
	}
	snap, err := c.Snapshot(ctx, vm, "disks", nil)
	if err != nil {
		t.Fatal(err)
	}
	snapDisks, err := c.VMDisks(ctx, snap)
	if err != nil || len(snapDisks) != 2 || slices.ContainsFunc(snapDisks, func(d xapi.VDIRef) bool { return slices.Contains(disks, d) }) {
		t.Fatalf("snapshot's VMDisks = %v, %v, want 2 disks other than the VM's %v", snapDisks, err, disks)
	}
	if _, err := c.VMDisks(ctx, "OpaqueRef:nope"); !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		t.Fatalf("VMDisks of an unknown VM: %v, want %s", err, xapi.CodeHandleInvalid)
	}
}

func names(refs []xapi.VDIRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = string(r)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
