package xva_test

import (
	"bytes"
	"testing"
)

// TestRoundTripSmallFirstDisk: XAPI (and xva.Reader, which imitates it) sizes
// every gap of omitted zero chunks by the archive's very first chunk. When the
// first disk in stream order is shorter than 1 MiB, that first chunk is short,
// so a later disk whose zero chunks the Writer omitted is read back with its
// gaps sized wrongly: the Writer's archive does not restore the disks it was given.
func TestRoundTripSmallFirstDisk(t *testing.T) {
	disks := []disk{{"Ref:1", content(1, "t", 4096)}, {"Ref:2", content(2, "rzr", 3*mib)}}
	refs, datas, err := readAll(t, bytes.NewReader(xvaBytes(t, disks...)), false)
	if err != nil {
		t.Fatalf("reading back the Writer's archive: %v", err)
	}
	for j, d := range disks {
		if j >= len(refs) || !bytes.Equal(datas[j], d.data) {
			t.Errorf("disk %s: content differs from what was written", d.id)
		}
	}
}
