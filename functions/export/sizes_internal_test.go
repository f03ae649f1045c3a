package export

import (
	"context"
	"testing"

	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestDiskSizesOfASparseVM: the progress total of an export is the disks'
// allocated bytes — what the XVA carries of a sparse disk, whose all-zero
// blocks XAPI leaves out — so the percentage and ETA run to 100% instead of
// jumping there from about 40%; the size hint for the remotes stays the
// virtual size, an upper bound.
func TestDiskSizesOfASparseVM(t *testing.T) {
	ctx := context.Background()
	sim, _, c := testsupport.StartSim(t, xapisim.Options{VMs: 1, DiskSize: 64 << 20, DisksPerVM: 2})
	vm := sim.VMs()[0]
	var virtual, allocated int64
	for _, ref := range vm.VDIs {
		rec, err := c.VDIRecord(ctx, xapi.VDIRef(ref))
		if err != nil {
			t.Fatal(err)
		}
		virtual += rec.VirtualSize
		allocated += rec.PhysicalUtilisation
	}
	if allocated <= 0 || allocated >= virtual {
		t.Fatalf("the simulated disks are not sparse: %d of %d bytes allocated", allocated, virtual)
	}
	hint, total := diskSizes(ctx, c, xapi.VMRef(vm.Ref))
	if hint != virtual || total != xvaFraming(allocated) || total >= virtual {
		t.Fatalf("diskSizes: size hint %d, progress total %d; want %d (virtual) and %d (allocated, framed)", hint, total, virtual, xvaFraming(allocated))
	}
}
