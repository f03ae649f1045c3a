package xapi_test

import (
	"bytes"
	"context"
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
