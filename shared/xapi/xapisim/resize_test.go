package xapisim_test

import (
	"bytes"
	"context"
	"testing"

	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestVDIResize: VDI.resize grows a disk with zeros, keeps its snapshots'
// size and content, refuses to shrink, and grows a tracked disk's CBT log
// so the bitmap covers the new size.
func TestVDIResize(t *testing.T) {
	ctx := context.Background()
	sim, c := startResizeSim(t)
	var vm xapi.VMRef
	for _, v := range sim.VMs() {
		if !v.IsSnapshot && !v.IsTemplate {
			vm = xapi.VMRef(v.Ref)
		}
	}
	disks, err := c.VMDisks(ctx, vm)
	if err != nil || len(disks) != 1 {
		t.Fatalf("disks %v %v", disks, err)
	}
	live := disks[0]
	if err := c.EnableCBT(ctx, live); err != nil {
		t.Fatal(err)
	}
	before := raw(t, c, live)
	snap, err := c.Snapshot(ctx, vm, "before", nil)
	if err != nil {
		t.Fatal(err)
	}
	snapDisks, _ := c.VMDisks(ctx, snap)
	if _, err := c.Call(ctx, "VDI.resize", live, "1048576"); !xapi.IsCode(err, "SR_BACKEND_FAILURE_79") {
		t.Fatalf("shrink: %v, want SR_BACKEND_FAILURE_79", err)
	}
	if _, err := c.Call(ctx, "VDI.resize", live, "4194304"); err != nil {
		t.Fatal(err)
	}
	rec, _ := c.VDIRecord(ctx, live)
	after := raw(t, c, live)
	if rec.VirtualSize != 4<<20 || len(after) != 4<<20 || !bytes.Equal(after[:2<<20], before) ||
		!bytes.Equal(after[2<<20:], make([]byte, 2<<20)) {
		t.Fatalf("grown disk: virtual_size %d, %d bytes, old part kept %v", rec.VirtualSize, len(after),
			bytes.Equal(after[:min(len(after), 2<<20)], before))
	}
	if got := raw(t, c, snapDisks[0]); !bytes.Equal(got, before) {
		t.Errorf("the snapshot's content changed (%d bytes)", len(got))
	}
	if _, err := c.Call(ctx, "VDI.resize", snapDisks[0], "8388608"); !xapi.IsCode(err, "OPERATION_NOT_ALLOWED") {
		t.Errorf("resize of a snapshot: %v", err)
	}
	snap2, err := c.Snapshot(ctx, vm, "after", nil)
	if err != nil {
		t.Fatal(err)
	}
	snap2Disks, _ := c.VMDisks(ctx, snap2)
	bm, err := c.ListChangedBlocks(ctx, snapDisks[0], snap2Disks[0])
	if err != nil || !bm.Covers(4<<20) {
		t.Fatalf("bitmap across the resize: %d blocks, %v", bm.Len(), err)
	}
	if _, err := c.Call(ctx, "VM.destroy", snap); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(ctx, "VDI.destroy", snapDisks[0]); err != nil {
		t.Fatal(err)
	}
	if got := raw(t, c, live); !bytes.Equal(got, after) {
		t.Error("destroying the old snapshot changed the grown disk")
	}
}

func startResizeSim(t *testing.T) (*xapisim.Server, *xapi.Client) {
	t.Helper()
	sim, _, c := testsupport.StartSim(t, xapisim.Options{VMs: 1, DiskSize: 2 << 20, DataDir: t.TempDir()})
	return sim, c
}

func raw(t *testing.T, c *xapi.Client, vdi xapi.VDIRef) []byte {
	t.Helper()
	tr, err := c.ExportRawVDI(context.Background(), vdi)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(tr); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
