package repotest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"xbr/shared/repo"
)

// testMirrorAsksChanged: copying a VM's next restore point to a target that holds an
// earlier one asks the target about (Stat, an S3 HEAD) only the chunks that differ from
// that point's at the same place; the others a committed manifest on the target names,
// which the copy's lease keeps from the target's GC. Asking about every chunk costs a 2 TB
// disk two million HEADs per copied point, whatever changed. The target's point the copy
// relies on must be one its GC keeps: once a point is deleted and swept, its chunks are
// asked about (and copied) again.
func testMirrorAsksChanged(t *testing.T, newRemote NewRemote, enc bool) {
	ctx := context.Background()
	var k repo.Key
	if enc {
		k = NewKey(t)
	}
	src := Init(t, newRemote(t), k)
	a := DiskImage(30, 16*cs+100) // 17 chunks: 3 zero (2 to 4), 14 stored, the last short
	a2 := bytes.Clone(a)
	copy(a2[7*cs:8*cs], DiskImage(31, cs)) // the second point changes chunks 7 and 12
	copy(a2[12*cs:13*cs], DiskImage(32, cs))
	a3 := bytes.Clone(a2)
	copy(a3[9*cs:10*cs], DiskImage(33, cs)) // the third, chunk 9
	p1, p2, p3 := repo.Point{VM: VMA, Time: T0}, repo.Point{VM: VMA, Time: T0.Add(time.Hour)}, repo.Point{VM: VMA, Time: T0.Add(2 * time.Hour)}
	WritePoint(t, src, VMA, p1.Time, a)
	WritePoint(t, src, VMA, p2.Time, a2)
	WritePoint(t, src, VMA, p3.Time, a3)

	c := &CountingRemote{Remote: newRemote(t)}
	dst, err := repo.InitMirror(ctx, c, src, k)
	if err != nil {
		t.Fatal(err)
	}
	copyAsking := func(p repo.Point, image []byte, copied, had int, asked int64) {
		t.Helper()
		c.ChunkStats.Store(0)
		st, err := repo.CopyPoint(ctx, src, dst, p)
		if err != nil || st.ChunksCopied != copied || st.ChunksHad != had {
			t.Fatalf("copy %s = %+v, %v: want %d chunks copied, %d had", p, st, err, copied, had)
		}
		if n := c.ChunkStats.Load(); n != asked {
			t.Fatalf("copy %s asked the target about %d chunks, want %d (%d copied, %d had)", p, n, asked, copied, had)
		}
		if got, err := ReadDisk(t, dst, p); err != nil || !bytes.Equal(got, image) {
			t.Fatalf("%s on the target: %v", p, err)
		}
	}
	copyAsking(p1, a, 14, 0, 14) // nothing on the target to rely on
	copyAsking(p2, a2, 2, 12, 2) // p1 is there: only chunks 7 and 12 differ

	// p2 deleted on the target and swept: its chunks 7 and 12 are gone. p3 relies on p1,
	// the nearest point left, and asks about what differs from it: 7, 9 and 12.
	if err := dst.Delete(ctx, p2); err != nil {
		t.Fatal(err)
	}
	// With no grace, a chunk is swept once older than the sweep marker: S3 keeps whole
	// seconds, so GC runs until the marker's second has passed (as in testGC).
	swept := 0
	for deadline := time.Now().Add(5 * time.Second); swept < 2 && time.Now().Before(deadline); {
		rep, err := dst.GC(ctx, repo.GCOptions{Grace: -1})
		if err != nil || rep.Manifests != 1 {
			t.Fatalf("gc of the target after deleting %s: %+v, %v: want 1 manifest read", p2, rep, err)
		}
		swept += rep.Swept
	}
	if swept != 2 {
		t.Fatalf("the target's GC swept %d chunks, want the 2 only %s used", swept, p2)
	}
	copyAsking(p3, a3, 3, 11, 3)
	if rep, err := dst.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil || rep.Manifests != 2 {
		t.Fatalf("verify the target: %+v, %v", rep, err)
	}
}
