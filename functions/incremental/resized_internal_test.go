package incremental

import (
	"context"
	"testing"

	"xbr/events"
	"xbr/shared/repo"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

// TestPlanDiskResized: a disk whose size differs from the previous point's
// is read whole (disk-resized) even though its base serves, and the same
// disk at the same size takes the cbt path: the decision alone, the
// previous point's size standing for the old one (TestFallbacks resizes a
// disk with VDI.resize end to end).
func TestPlanDiskResized(t *testing.T) {
	ctx := context.Background()
	sim, _, c := testsupport.StartSim(t, xapisim.Options{VMs: 1, DiskSize: 2 << 20, NBD: "nbd", DataDir: t.TempDir()})
	var vm xapi.VMRef
	for _, v := range sim.VMs() {
		if !v.IsSnapshot && !v.IsTemplate {
			vm = xapi.VMRef(v.Ref)
		}
	}
	live, err := c.VMDisks(ctx, vm)
	if err != nil || len(live) != 1 {
		t.Fatalf("disks %v %v", live, err)
	}
	if err := c.EnableCBT(ctx, live[0]); err != nil {
		t.Fatal(err)
	}
	base := snapDisk(t, c, vm)
	next := snapDisk(t, c, vm)
	liveRec, _ := c.VDIRecord(ctx, live[0])
	baseRec, _ := c.VDIRecord(ctx, base)
	nextRec, _ := c.VDIRecord(ctx, next)
	d := pointDisk{vdi: next, size: 2 << 20, rec: xva.RepoDisk{Name: "Ref:3", SnapshotVDI: nextRec.UUID,
		SourceVDI: liveRec.UUID, Userdevice: "0"}}
	w := newWorker(Deps{})
	j := &job{req: events.IncrementalRequested{VMUUID: "00000000-0000-0000-0000-000000000001"}}
	for _, tc := range []struct {
		prevSize   int64
		path, want string
	}{{1 << 20, events.PathFullScan, events.PathReasonDiskResized}, {2 << 20, events.PathCBT, ""}} {
		prev := &previous{point: repo.Point{VM: j.req.VMUUID}, sizes: []int64{tc.prevSize}, records: xva.RepoRecords{
			Disks: []xva.RepoDisk{{Name: "Ref:3", SnapshotVDI: baseRec.UUID, SourceVDI: liveRec.UUID, Userdevice: "0"}}}}
		p := w.plan(ctx, c, d, prev, j)
		if p.path != tc.path || p.reason != tc.want {
			t.Errorf("previous size %d: path %s (%s), want %s (%s)", tc.prevSize, p.path, p.reason, tc.path, tc.want)
		}
	}
}

// snapDisk snapshots vm and returns the snapshot's disk.
func snapDisk(t *testing.T, c *xapi.Client, vm xapi.VMRef) xapi.VDIRef {
	t.Helper()
	snap, err := c.Snapshot(context.Background(), vm, "s", nil)
	if err != nil {
		t.Fatal(err)
	}
	disks, err := c.VMDisks(context.Background(), snap)
	if err != nil || len(disks) != 1 {
		t.Fatalf("snapshot disks %v %v", disks, err)
	}
	return disks[0]
}
