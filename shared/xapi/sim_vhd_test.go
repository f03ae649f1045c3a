package xapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"xbr/shared/vhd"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestExportVHD: ExportVHD's stream, read with package vhd, is the raw
// disk; the transfer ends with its task's success.
func TestExportVHD(t *testing.T) {
	const size = 12<<20 + 512
	_, url := startSim(t, xapisim.Options{DiskSize: size})
	c := connect(t, url, xapi.XMLRPC)
	vm, _ := plainVM(t, c, xapi.Halted)
	vdi := disksOf(t, c, vm)[0]
	raw := rawDisk(t, c, vdi)
	tr, err := c.ExportVHD(context.Background(), vdi)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	vr, err := vhd.NewReader(tr, size)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(vhd.Expand(vr))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw) {
		t.Fatal("the VHD expanded differs from the raw disk")
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestExportVHDTooLarge: above the VHD maximum the request fails before any
// body with the task's VDI_TOO_LARGE, as XAPI refuses it.
func TestExportVHDTooLarge(t *testing.T) {
	_, url := startSim(t, xapisim.Options{DiskSize: vhd.MaxSize + 2<<20})
	c := connect(t, url, xapi.XMLRPC)
	vm, _ := plainVM(t, c, xapi.Halted)
	tr, err := c.ExportVHD(context.Background(), disksOf(t, c, vm)[0])
	if err == nil {
		tr.Close()
		t.Fatal("ExportVHD of a disk above 2040 GiB succeeded")
	}
	if !xapi.IsCode(err, "VDI_TOO_LARGE") {
		t.Fatalf("error %v, want VDI_TOO_LARGE", err)
	}
}

// TestExportVHDOfRawDisk: the VHD export of a raw disk whose size is not a
// whole number of 2 MiB blocks is built as XAPI's vhd-tool builds it (the
// footer's size rounded up to a block; the block holding the disk's end cut
// there when allocated, left out when all zeros), and package vhd reads it
// back as exactly the bytes of format=raw.
func TestExportVHDOfRawDisk(t *testing.T) {
	const size = 13<<20 - 4096
	_, url := startSim(t, xapisim.Options{DiskSize: 10 << 20, DisksPerVM: 2, RawDisks: true})
	c := connect(t, url, xapi.XMLRPC)
	ctx := context.Background()
	vm, _ := plainVM(t, c, xapi.Halted)
	disks := disksOf(t, c, vm)
	for _, vdi := range disks { // grown with zeros: the last blocks are
		if _, err := c.Call(ctx, "VDI.resize", vdi, fmt.Sprint(size)); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := c.VDIRecord(ctx, disks[0])
	if err != nil {
		t.Fatal(err)
	}
	guestWrite(t, url, rec.UUID, size-8192, 4096, 1) // but this one's holds data
	for i, vdi := range disks {
		raw := rawDisk(t, c, vdi)
		tr, err := c.ExportVHD(ctx, vdi)
		if err != nil {
			t.Fatal(err)
		}
		var head bytes.Buffer
		vr, err := vhd.NewReader(io.TeeReader(tr, &head), size)
		if err != nil {
			t.Fatalf("disk %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint64(head.Bytes()[48:]); got != 14<<20 {
			t.Errorf("disk %d: footer current size %d, want %d (rounded up to 2 MiB)", i, got, 14<<20)
		}
		got, err := io.ReadAll(vhd.Expand(vr))
		if err != nil {
			t.Fatalf("disk %d: %v", i, err)
		}
		if !bytes.Equal(got, raw) {
			t.Fatalf("disk %d: the VHD expanded (%d bytes) differs from the raw disk (%d)", i, len(got), len(raw))
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
