package repo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote/dir"
)

// TestMarkMemoryFlatInChunksPerVM: GC's mark spools the ids it finds on local disk, so its
// peak heap does not grow with the chunks of a VM (issue 15: GC memory flat in the number of
// chunks per VM; it held every distinct id in memory, 95 bytes of heap per chunk at a merge,
// which a repository of a few million chunks would have pushed past `xbr serve`'s 300 MiB).
func TestMarkMemoryFlatInChunksPerVM(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a manifest of 400,000 chunk ids")
	}
	peak := func(chunks int) uint64 {
		d, err := dir.New("nfs", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		rp, err := Init(context.Background(), d, InitOptions{ChunkSize: MinChunkSize})
		if err != nil {
			t.Fatal(err)
		}
		writeFakeManifest(t, rp, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", chunks)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var top uint64
		stop := samplePeak(&top)
		spool := newRefSpool(t.TempDir())
		defer spool.close()
		n, err := rp.mark(context.Background(), spool, map[string]markedManifest{})
		stop()
		distinct := 0
		var ids []ChunkID
		for b := 0; b < 256 && err == nil; b++ {
			ids, err = spool.shard(byte(b), ids)
			distinct += len(ids)
		}
		if err != nil || n != 1 || distinct != chunks {
			t.Fatalf("mark = %d manifests, %d distinct ids, %v; want 1 manifest, %d ids", n, distinct, err, chunks)
		}
		return top - min(top, before.HeapInuse)
	}
	small, large := peak(50_000), peak(400_000)
	t.Logf("mark's peak heap: %.1f MiB for 50,000 chunks, %.1f MiB for 400,000 (%.0f bytes per chunk)",
		float64(small)/(1<<20), float64(large)/(1<<20), float64(large)/400_000)
	if large > 2*small {
		t.Fatalf("mark's memory is not flat in the chunks per VM: %.1f MiB for 50,000 chunks, %.1f MiB for 400,000",
			float64(small)/(1<<20), float64(large)/(1<<20))
	}
}

// writeFakeManifest commits a manifest of vm with one disk of n distinct chunk ids (the
// chunks are not stored: mark reads manifests only).
func writeFakeManifest(t *testing.T, rp *Repo, vm string, n int) {
	t.Helper()
	m := &Manifest{Format: ManifestFormat, Version: ManifestVersion, VM: vm,
		Time: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), Records: []byte(`{}`),
		Disks: []Disk{{Name: "xvda", Size: int64(n) * MinChunkSize, ChunkSize: MinChunkSize,
			Chunks: int64(n), ImageDigest: strings.Repeat("0", 64)}}}
	ids := func(_ int, emit func(entry) error) error {
		for k := 0; k < n; k++ {
			id := ChunkID(sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(k))))
			if err := emit(entry{id: id, sum: id}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rp.commitManifest(context.Background(), m, ids, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}
