package incremental_test

import (
	"context"
	"testing"

	"xbr/events"
	"xbr/shared/xapi/xapisim"
)

// TestFallbacks: every reason a disk cannot be read by its changed blocks
// gives a full scan that says why, a correct image, and the bases the next
// run needs.
func TestFallbacks(t *testing.T) {
	ctx := context.Background()
	for _, c := range fallbacks(t) {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.nbd, c.cbt, false)
			if c.name == "cbt reset" { // tracked before the first run, so that one leaves a base
				for _, d := range e.liveDisks() {
					if err := e.client.EnableCBT(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
			}
			first := e.run()
			if first.Path != events.PathFullScan || first.PathReason != events.PathReasonFirstRun {
				t.Fatalf("first run: path %s (%s)", first.Path, first.PathReason)
			}
			if c.between != nil {
				c.between(e)
			}
			disks := e.liveDisks()
			e.guestWrite(disks[0], 1<<20, 64<<10, 7)
			before, exported := e.nbdRead(), e.exportRead()
			second := e.run()
			exported = e.exportRead() - exported
			if second.Path != events.PathFullScan || second.PathReason != c.reason {
				t.Fatalf("second run: path %s (%s), want full-scan (%s)", second.Path, second.PathReason, c.reason)
			}
			read := int64(2 * diskSize)
			if c.read != 0 {
				read = c.read
			}
			// The disks hold all-zero 2 MiB blocks, which the VHD export leaves out.
			if got := e.nbdRead() - before; got != 0 || second.BytesRead != exported || exported >= read || exported == 0 {
				t.Errorf("a full scan read %d bytes over NBD and %d in all, the host sent %d; want 0, the same, and below the %d raw bytes",
					got, second.BytesRead, exported, read)
			}
			e.assertPoint(second)
			e.assertBases(c.bases)
		})
	}
}

type fallback struct {
	name, nbd, cbt string
	between        func(e *env)
	reason         string
	bases          int   // cbt_metadata VDIs after the second run
	read           int64 // raw bytes of the disks the second run reads whole [both disks]
}

func fallbacks(t *testing.T) []fallback {
	ctx := context.Background()
	return []fallback{
		{name: "cbt off, use-if-enabled", nbd: "nbd", cbt: "use-if-enabled", reason: events.PathReasonCBTDisabled},
		{name: "cbt reset", nbd: "nbd", cbt: "use-if-enabled", reason: events.PathReasonCBTReset, bases: 2,
			between: func(e *env) {
				for _, d := range e.liveDisks() {
					if err := e.client.DisableCBT(ctx, d); err != nil {
						t.Fatal(err)
					}
					if err := e.client.EnableCBT(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
			}},
		{name: "disk resized", nbd: "nbd", cbt: "enable", reason: events.PathReasonDiskResized, bases: 2,
			read: 6 << 20, // the grown disk whole; the other one by its (no) changed blocks
			between: func(e *env) {
				if _, err := e.client.Call(ctx, "VDI.resize", e.liveDisks()[0], "6291456"); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "storage migration", nbd: "nbd", cbt: "enable", reason: events.PathReasonCBTReset, bases: 2,
			between: func(e *env) { // as Xen Orchestra migrates a tracked disk: CBT off, then the move
				for _, d := range e.liveDisks() {
					if err := e.client.DisableCBT(ctx, d); err != nil {
						t.Fatal(err)
					}
					if _, err := e.client.Call(ctx, "VDI.pool_migrate", d, e.sim.SRRef(), map[string]any{}); err != nil {
						t.Fatal(err)
					}
				}
			}},
		{name: "no nbd network", nbd: "", cbt: "enable", reason: events.PathReasonNoNBD, bases: 2},
		{name: "base destroyed", nbd: "nbd", cbt: "enable", reason: events.PathReasonBaseGone, bases: 2,
			between: func(e *env) {
				for _, ref := range e.sim.Refs("VDI") {
					if rec, _ := e.sim.Record("VDI", ref); rec["type"] == "cbt_metadata" {
						if _, err := e.client.Call(ctx, "VDI.destroy", ref); err != nil {
							t.Fatal(err)
						}
					}
				}
			}},
	}
}

// TestFullScanRawWhenVHDRefused: when the host refuses the VHD export
// before any body (VDI_TOO_LARGE), the disks are read raw, every byte,
// and the point is still exact.
func TestFullScanRawWhenVHDRefused(t *testing.T) {
	e := newEnv(t, "nbd", "enable", false)
	e.sim.SetFaults(xapisim.Faults{RefuseVHD: true})
	exported := e.exportRead()
	first := e.run()
	exported = e.exportRead() - exported
	if first.Path != events.PathFullScan || first.PathReason != events.PathReasonFirstRun {
		t.Fatalf("first run: path %s (%s)", first.Path, first.PathReason)
	}
	if first.BytesRead != 2*diskSize || exported != 2*diskSize {
		t.Fatalf("first run: bytes_read %d, the host sent %d; want the disks' %d raw bytes", first.BytesRead, exported, 2*diskSize)
	}
	e.sim.SetFaults(xapisim.Faults{})
	e.assertPoint(first)
}

// A VHD stream the reader refuses once it has started (here a damaged footer) does not
// fail the VM: the attempt is made again reading the disk raw, and the point is exact.
func TestFullScanRawWhenVHDUnreadable(t *testing.T) {
	e := newEnv(t, "nbd", "enable", false)
	e.sim.SetFaults(xapisim.Faults{DamageVHD: true})
	first := e.run()
	if first.Path != events.PathFullScan || first.PathReason != events.PathReasonFirstRun {
		t.Fatalf("first run: path %s (%s)", first.Path, first.PathReason)
	}
	if first.BytesRead != 2*diskSize {
		t.Fatalf("first run: bytes_read %d; want the disks' %d raw bytes", first.BytesRead, 2*diskSize)
	}
	e.sim.SetFaults(xapisim.Faults{})
	e.assertPoint(first)
}
