package xva_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/xva"
)

// disk is a disk to put in a test archive.
type disk struct {
	id   string
	data []byte
}

var testVersion = xva.Version{Hostname: "localhost", Date: "2024-01-01", ProductVersion: "8.2.1",
	ProductBrand: "XCP-ng", BuildNumber: "release/yangtze/master/58", XapiMajor: 1, XapiMinor: 20, ExportVsn: 2}

// testHeader builds an ova.xml header for a VM with the given disks on one
// SR, plus a CD drive whose VDI sits on an ISO SR (never streamed).
func testHeader(disks ...disk) *xva.Header {
	vm := xva.Object{Class: "VM", ID: "Ref:0", Snapshot: map[string]any{
		"uuid": "2f9c0000-0000-4000-8000-000000000000", "name_label": "vm1", "power_state": "Halted",
		"is_a_template": false, "memory_static_max": int64(1 << 30), "HVM_shadow_multiplier": 1.0,
		"snapshot_time": time.Unix(0, 0).UTC(), "other_config": map[string]any{"mac_seed": "x"},
	}}
	h := &xva.Header{Version: testVersion}
	var vbds, vdis []xva.Object
	var vbdIDs []any
	srVDIs := []any{}
	for i, d := range disks {
		vbd := fmt.Sprintf("Ref:%d", 1000+i)
		vbdIDs = append(vbdIDs, vbd)
		srVDIs = append(srVDIs, d.id)
		vbds = append(vbds, xva.Object{Class: "VBD", ID: vbd, Snapshot: map[string]any{
			"VM": "Ref:0", "VDI": d.id, "type": "Disk", "mode": "RW", "userdevice": fmt.Sprint(i),
			"bootable": i == 0, "empty": false}})
		vdis = append(vdis, xva.Object{Class: "VDI", ID: d.id, Snapshot: map[string]any{
			"uuid": fmt.Sprintf("d15c0000-0000-4000-8000-%012d", i), "name_label": fmt.Sprintf("disk%d", i),
			"SR": "Ref:500", "VBDs": []any{vbd}, "virtual_size": int64(len(d.data)), "type": "user"}})
	}
	vbdIDs = append(vbdIDs, "Ref:999")
	vm.Snapshot["VBDs"] = vbdIDs
	cd := xva.Object{Class: "VBD", ID: "Ref:999", Snapshot: map[string]any{
		"VM": "Ref:0", "VDI": "Ref:998", "type": "CD", "mode": "RO", "userdevice": "3", "empty": false}}
	iso := xva.Object{Class: "VDI", ID: "Ref:998", Snapshot: map[string]any{
		"SR": "Ref:997", "virtual_size": int64(1 << 20), "type": "user", "VBDs": []any{"Ref:999"}}}
	h.Objects = append(h.Objects, vm)
	h.Objects = append(h.Objects, vbds...)
	h.Objects = append(h.Objects, cd)
	h.Objects = append(h.Objects, vdis...)
	h.Objects = append(h.Objects, iso,
		xva.Object{Class: "SR", ID: "Ref:500", Snapshot: map[string]any{"content_type": "user", "VDIs": srVDIs}},
		xva.Object{Class: "SR", ID: "Ref:997", Snapshot: map[string]any{"content_type": "iso", "VDIs": []any{"Ref:998"}}})
	return h
}

// writeXVA writes a whole archive for disks, in stream (id) order.
func writeXVA(t testing.TB, w io.Writer, disks ...disk) {
	t.Helper()
	ova, err := testHeader(disks...).MarshalOVA()
	if err != nil {
		t.Fatal(err)
	}
	xw := xva.NewWriter(w, xva.WriterOptions{ModTime: time.Unix(1700000000, 0)})
	if err := xw.WriteOVA(ova); err != nil {
		t.Fatal(err)
	}
	sorted := slices.Clone(disks)
	slices.SortFunc(sorted, func(a, b disk) int { return strings.Compare(a.id, b.id) })
	for _, d := range sorted {
		if err := xw.WriteDisk(d.id, int64(len(d.data)), bytes.NewReader(d.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
}

// xvaBytes returns a whole archive for disks.
func xvaBytes(t testing.TB, disks ...disk) []byte {
	var buf bytes.Buffer
	writeXVA(t, &buf, disks...)
	return buf.Bytes()
}

// content builds n bytes: MiB-aligned runs chosen by pattern, one letter per
// MiB: 'z' zeros, 'r' random, 't' text, 'd' 4 KiB database-like pages.
func content(seed uint64, pattern string, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := 0; i < n; i += xva.ChunkSize {
		end := min(n, i+xva.ChunkSize)
		switch pattern[(i/xva.ChunkSize)%len(pattern)] {
		case 'r':
			for j := i; j < end; j++ {
				b[j] = byte(rng.Uint32())
			}
		case 'd':
			for j := i; j < end; j++ {
				if (j-i)%4096 < 64 {
					b[j] = byte(rng.Uint32())
				} else {
					b[j] = byte((j - i) % 4096 / 16)
				}
			}
		case 't':
			line := []byte(fmt.Sprintf("%d INFO request served in %dms\n", i, rng.IntN(1000)))
			for j := i; j < end; j++ {
				b[j] = line[(j-i)%len(line)]
			}
		}
	}
	return b
}
