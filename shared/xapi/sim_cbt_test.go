package xapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// guestWrite writes length bytes of seed's data at offset into the VDI
// with the simulator's guest-write endpoint.
func guestWrite(t *testing.T, url, vdiUUID string, offset, length int64, seed int) {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("%s/sim/vdi/%s/write?offset=%d&length=%d&seed=%d", url, vdiUUID, offset, length, seed), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("guest write %d+%d: HTTP %s", offset, length, resp.Status)
	}
}

// snapDisk snapshots vm and returns the snapshot VM and its first disk.
func snapDisk(t *testing.T, c *xapi.Client, vm xapi.VMRef, name string) (xapi.VMRef, xapi.VDIRef) {
	t.Helper()
	snap, err := c.Snapshot(context.Background(), vm, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	disks, err := c.VMDisks(context.Background(), snap)
	if err != nil || len(disks) != 1 {
		t.Fatalf("snapshot disks: %v, %v", disks, err)
	}
	return snap, disks[0]
}

// vdiOf returns the record of ref.
func vdiOf(t *testing.T, c *xapi.Client, ref xapi.VDIRef) xapi.VDI {
	t.Helper()
	rec, err := c.VDIRecord(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestCBTCalls: EnableCBT is idempotent and sets cbt_enabled; snapshots
// of a tracked VDI carry tracking; ListChangedBlocks names exactly the
// 64 KiB blocks a guest wrote between two snapshots (first bit = first
// block), on both transports; the reverse order, the same VDI, and a
// chain broken by DisableCBT + EnableCBT are SM's error 460.
func TestCBTCalls(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{VMs: 2, DiskSize: 4<<20 + 512})
			c := connect(t, url, tr.tr)
			ctx := context.Background()
			vm, _ := plainVM(t, c, xapi.Halted)
			disk := disksOf(t, c, vm)[0]
			for range 2 {
				if err := c.EnableCBT(ctx, disk); err != nil {
					t.Fatal(err)
				}
			}
			rec := vdiOf(t, c, disk)
			if !rec.CBTEnabled {
				t.Fatal("cbt_enabled is false after EnableCBT")
			}
			_, a := snapDisk(t, c, vm, "A")
			if !vdiOf(t, c, a).CBTEnabled {
				t.Fatal("the snapshot of a tracked VDI has cbt_enabled false")
			}
			guestWrite(t, url, rec.UUID, 0, 512, 1)             // block 0
			guestWrite(t, url, rec.UUID, 3*64<<10-512, 1024, 2) // blocks 2 and 3
			guestWrite(t, url, rec.UUID, 4<<20, 512, 3)         // the partial last block, 64
			_, b := snapDisk(t, c, vm, "B")
			bm, err := c.ListChangedBlocks(ctx, a, b)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Collect(bm.Blocks()); !slices.Equal(got, []int64{0, 2, 3, 64}) || bm.Len() != 72 {
				t.Fatalf("changed blocks %v of %d, want [0 2 3 64] of 72 (9 bytes)", got, bm.Len())
			}
			if runs := slices.Collect(bm.Runs()); len(runs) != 3 || runs[1] != (xapi.Run{First: 2, Blocks: 2}) {
				t.Fatalf("runs %v", runs)
			}
			for _, pair := range [][2]xapi.VDIRef{{b, a}, {a, a}} {
				if _, err := c.ListChangedBlocks(ctx, pair[0], pair[1]); !xapi.IsCode(err, xapi.CodeCBTUnrelated) {
					t.Errorf("ListChangedBlocks(%s, %s): %v, want %s", pair[0], pair[1], err, xapi.CodeCBTUnrelated)
				}
			}
			if err := c.DisableCBT(ctx, disk); err != nil {
				t.Fatal(err)
			}
			if vdiOf(t, c, disk).CBTEnabled {
				t.Fatal("cbt_enabled is true after DisableCBT")
			}
			if err := c.EnableCBT(ctx, disk); err != nil {
				t.Fatal(err)
			}
			_, d := snapDisk(t, c, vm, "D")
			if _, err := c.ListChangedBlocks(ctx, b, d); !xapi.IsCode(err, xapi.CodeCBTUnrelated) {
				t.Fatalf("ListChangedBlocks across a CBT reset: %v, want %s", err, xapi.CodeCBTUnrelated)
			}
			if err := c.EnableCBT(ctx, a); !xapi.IsCode(err, "OPERATION_NOT_ALLOWED") {
				t.Fatalf("EnableCBT on a snapshot: %v", err)
			}
		})
	}
}

// TestDataDestroy: only a CBT-enabled snapshot without VBDs loses its
// data; it becomes cbt_metadata, cannot be exported or served over NBD,
// and still answers ListChangedBlocks.
func TestDataDestroy(t *testing.T) {
	_, url := startSim(t, xapisim.Options{VMs: 2, NBD: "nbd"})
	c := connect(t, url, xapi.XMLRPC)
	ctx := context.Background()
	vm, _ := plainVM(t, c, xapi.Halted)
	disk := disksOf(t, c, vm)[0]
	if err := c.DataDestroy(ctx, disk); !xapi.IsCode(err, "OPERATION_NOT_ALLOWED") {
		t.Fatalf("DataDestroy of a live VDI: %v", err)
	}
	snap0, plain := snapDisk(t, c, vm, "no cbt")
	if _, err := c.Call(ctx, "VM.destroy", snap0); err != nil {
		t.Fatal(err)
	}
	if err := c.DataDestroy(ctx, plain); !xapi.IsCode(err, xapi.CodeNoCBTMetadata) {
		t.Fatalf("DataDestroy without CBT: %v", err)
	}
	if err := c.EnableCBT(ctx, disk); err != nil {
		t.Fatal(err)
	}
	snapA, a := snapDisk(t, c, vm, "A")
	if err := c.DataDestroy(ctx, a); !xapi.IsCode(err, xapi.CodeVDIInUse) {
		t.Fatalf("DataDestroy with the snapshot VM's VBD: %v", err)
	}
	if _, err := c.Call(ctx, "VM.destroy", snapA); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.DataDestroy(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if rec := vdiOf(t, c, a); rec.Type != "cbt_metadata" || !rec.CBTEnabled {
		t.Fatalf("after DataDestroy: type %q cbt_enabled %v", rec.Type, rec.CBTEnabled)
	}
	if _, err := c.NBDInfo(ctx, a); !xapi.IsCode(err, xapi.CodeIncompatibleType) {
		t.Fatalf("NBDInfo of cbt_metadata: %v", err)
	}
	if tr, err := c.ExportRawVDI(ctx, a); err == nil {
		_ = tr.Close()
		t.Fatal("ExportRawVDI of a cbt_metadata VDI succeeded")
	}
	guestWrite(t, url, vdiOf(t, c, disk).UUID, 1<<20, 64<<10, 9)
	_, b := snapDisk(t, c, vm, "B")
	bm, err := c.ListChangedBlocks(ctx, a, b)
	if err != nil || !slices.Equal(slices.Collect(bm.Blocks()), []int64{16}) {
		t.Fatalf("ListChangedBlocks from cbt_metadata: %v, %v", err, bm)
	}
}

// TestNBDInfo: no NBD network gives no record; with one, a record per
// host that sees the SR, with the host's certificate; nbd and
// insecure_nbd exclude each other.
func TestNBDInfo(t *testing.T) {
	sim, url := startSim(t, xapisim.Options{VMs: 2})
	c := connect(t, url, xapi.JSONRPC)
	ctx := context.Background()
	vm, _ := plainVM(t, c, xapi.Halted)
	disk := disksOf(t, c, vm)[0]
	infos, err := c.NBDInfo(ctx, disk)
	if err != nil || len(infos) != 0 {
		t.Fatalf("NBDInfo without an NBD network: %v, %v", infos, err)
	}
	nets, err := c.Networks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var network xapi.NetworkRef
	for ref := range nets {
		network = ref
	}
	if _, err := c.Call(ctx, "network.add_purpose", network, "nbd"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(ctx, "network.add_purpose", network, "insecure_nbd"); !xapi.IsCode(err, "NETWORK_INCOMPATIBLE_PURPOSES") {
		t.Fatalf("insecure_nbd beside nbd: %v", err)
	}
	infos, err = c.NBDInfo(ctx, disk)
	if err != nil || len(infos) != 1 {
		t.Fatalf("NBDInfo: %v, %v", infos, err)
	}
	i := infos[0]
	want := "/" + vdiOf(t, c, disk).UUID + "?session_id=" + c.Session()
	if i.ExportName != want || i.Address != "127.0.0.1" || i.Subject != "xapisim-host1" || i.Cert == "" ||
		net.JoinHostPort(i.Address, fmt.Sprint(i.Port)) != sim.NBDAddress() {
		t.Fatalf("record %+v, want export %q on %s", i, want, sim.NBDAddress())
	}
	if s := fmt.Sprint(i); s == "" || strings.Contains(s, c.Session()) {
		t.Fatalf("String() %q shows the session", s)
	}
}
