package xva_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenDisks: "Ref:10" (2 MiB + 3: a written first chunk, an omitted zero
// chunk, a 3-byte last chunk) and "Ref:9" (5 bytes), streamed in that order.
func goldenDisks() []disk {
	big := make([]byte, 2*mib+3)
	copy(big, "boot sector of a tiny disk\n")
	copy(big[2*mib:], "end")
	return []disk{{"Ref:9", []byte("hello")}, {"Ref:10", big}}
}

// TestGoldenXVA pins the writer's bytes, then reads the golden file back.
func TestGoldenXVA(t *testing.T) {
	path := filepath.Join("testdata", "small.xva")
	got := xvaBytes(t, goldenDisks()...)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenXVA -update)", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("writer output differs from %s at byte %d (block %d, offset %d); got %d bytes, want %d",
			path, i, i/512, i%512, len(got), len(want))
	}
	refs, datas, err := readAll(t, bytes.NewReader(want), false)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range []disk{goldenDisks()[1], goldenDisks()[0]} {
		if refs[i].ID != d.id || !bytes.Equal(datas[i], d.data) {
			t.Errorf("golden disk %d: %s, content equal %v; want %s", i, refs[i].ID, bytes.Equal(datas[i], d.data), d.id)
		}
	}
}
