package incremental_test

import (
	"testing"

	"xbr/events"
	"xbr/shared/xapi/xapisim"
)

// TestFirstRunOfRawDiskReadsItOnce: a raw disk whose size is not a whole
// number of 2 MiB blocks (SM's FileSR makes a raw VDI of the size asked)
// comes from XAPI's vhd-tool as a VHD whose footer states the size rounded
// up to a block, the block holding the disk's end cut there. The first run
// reads each disk once, from that VHD, not a second time raw, and the point
// is byte-exact against format=raw.
func TestFirstRunOfRawDiskReadsItOnce(t *testing.T) {
	const size = 5<<20 - 4096
	e := newEnvPool(t, "nbd", "enable", false, "", xapisim.Options{VMs: 1, DiskSize: size, RawDisks: true}, "")
	e.guestWrite(e.liveDisks()[0], size-64<<10, 64<<10, 1) // data in the last block: vhd-tool cuts it
	before := e.sim.Stats()
	first := e.run()
	after := e.sim.Stats()
	if first.Path != events.PathFullScan || first.PathReason != events.PathReasonFirstRun {
		t.Fatalf("first run: path %s (%s)", first.Path, first.PathReason)
	}
	requests := after.Requests["/export_raw_vdi"] - before.Requests["/export_raw_vdi"]
	exported := after.Bytes["export_raw_vdi"] - before.Bytes["export_raw_vdi"]
	if requests != 2 || first.BytesRead != exported {
		t.Errorf("first run: %d requests to /export_raw_vdi for 2 disks, bytes_read %d, the host sent %d; "+
			"want one request per disk (no second read raw) and bytes_read the bytes sent", requests, first.BytesRead, exported)
	}
	e.assertPoint(first)
}
