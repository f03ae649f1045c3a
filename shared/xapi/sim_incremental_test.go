package xapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"testing"

	"xbr/shared/nbd"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// rawDisk reads a whole (small) disk with /export_raw_vdi.
func rawDisk(t *testing.T, c *xapi.Client, vdi xapi.VDIRef) []byte {
	t.Helper()
	tr, err := c.ExportRawVDI(context.Background(), vdi)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	b, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// simBytes reads the byte counters of GET /sim/stats.
func simBytes(t *testing.T, url string) map[string]int64 {
	t.Helper()
	resp, err := http.Get(url + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Bytes map[string]int64 `json:"bytes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Bytes
}

// TestIncrementalOverNBD is the path an incremental backup takes: CBT on,
// snapshot A, guest writes, snapshot B; the changed blocks are exactly
// those written, reading them over verified-TLS NBD from B gives the bytes
// /export_raw_vdi gives for B, every other block is unchanged since A,
// and only those bytes count as nbd_read. After data_destroy(A) (and more
// writes, snapshot C), list_changed_blocks(A, C) names both rounds.
func TestIncrementalOverNBD(t *testing.T) {
	_, url := startSim(t, xapisim.Options{VMs: 2, DiskSize: 8 << 20, NBD: "nbd"})
	c := connect(t, url, xapi.XMLRPC)
	ctx := context.Background()
	vm, _ := plainVM(t, c, xapi.Halted)
	disk := disksOf(t, c, vm)[0]
	if err := c.EnableCBT(ctx, disk); err != nil {
		t.Fatal(err)
	}
	snapA, a := snapDisk(t, c, vm, "A")
	uuid := vdiOf(t, c, disk).UUID
	written := map[int64]bool{}
	for i, w := range [][2]int64{{5 << 16, 64 << 10}, {40<<16 + 512, 512}, {100 << 16, 3 << 16}, {(128 << 16) - 4096, 4096}} {
		guestWrite(t, url, uuid, w[0], w[1], i+1)
		for b := w[0] >> 16; b<<16 < w[0]+w[1]; b++ {
			written[b] = true
		}
	}
	_, b := snapDisk(t, c, vm, "B")
	bm, err := c.ListChangedBlocks(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !bm.Covers(8 << 20) {
		t.Fatalf("bitmap of %d blocks does not cover the 8 MiB disk", bm.Len())
	}
	bm = bm.Clip(8 << 20)
	if got, want := slices.Collect(bm.Blocks()), slices.Sorted(maps.Keys(written)); !slices.Equal(got, want) {
		t.Fatalf("changed blocks %v, want %v", got, want)
	}
	rawA, rawB := rawDisk(t, c, a), rawDisk(t, c, b)
	before := simBytes(t, url)["nbd_read"]
	read := readRunsOverNBD(t, c, b, bm, rawB)
	if got := simBytes(t, url)["nbd_read"] - before; got != read || read != bm.Count()*xapi.CBTBlockSize {
		t.Fatalf("nbd_read counted %d bytes, read %d, want %d", got, read, bm.Count()*xapi.CBTBlockSize)
	}
	for blk := int64(0); blk < bm.Len(); blk++ {
		same := bytes.Equal(rawA[blk<<16:(blk+1)<<16], rawB[blk<<16:(blk+1)<<16])
		if same == bm.Changed(blk) {
			t.Fatalf("block %d: changed %v but A and B equal %v", blk, bm.Changed(blk), same)
		}
	}
	if _, err := c.Call(ctx, "VM.destroy", snapA); err != nil {
		t.Fatal(err)
	}
	if err := c.DataDestroy(ctx, a); err != nil {
		t.Fatal(err)
	}
	guestWrite(t, url, uuid, 7<<16, 512, 9)
	_, cc := snapDisk(t, c, vm, "C")
	bm2, err := c.ListChangedBlocks(ctx, a, cc)
	if err != nil {
		t.Fatal(err)
	}
	written[7] = true
	if got, want := slices.Collect(bm2.Clip(8<<20).Blocks()), slices.Sorted(maps.Keys(written)); !slices.Equal(got, want) {
		t.Fatalf("changed blocks from cbt_metadata A to C %v, want %v", got, want)
	}
}

// readRunsOverNBD reads every run of bm from vdi over NBD and compares it
// with raw; it returns the bytes read.
func readRunsOverNBD(t *testing.T, c *xapi.Client, vdi xapi.VDIRef, bm xapi.Bitmap, raw []byte) int64 {
	t.Helper()
	ctx := context.Background()
	infos, err := c.NBDInfo(ctx, vdi)
	if err != nil || len(infos) == 0 {
		t.Fatalf("NBDInfo: %v, %v", infos, err)
	}
	nc, err := nbd.Dial(ctx, infos[0].NBDConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if nc.Size() != int64(len(raw)) {
		t.Fatalf("NBD export size %d, raw export %d bytes", nc.Size(), len(raw))
	}
	var read int64
	for run := range bm.Runs() {
		n := min(run.Length(), nc.Size()-run.Offset())
		buf := make([]byte, n)
		if err := nc.Read(ctx, run.Offset(), buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, raw[run.Offset():run.Offset()+n]) {
			t.Fatalf("run %+v: NBD bytes differ from /export_raw_vdi", run)
		}
		read += n
	}
	return read
}
