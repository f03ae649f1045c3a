package repo_test

import (
	"context"
	"testing"
	"time"

	"xbr/shared/repo"
	"xbr/shared/testsupport"
)

func testGC(t *testing.T, rp *repo.Repo) {
	ctx := context.Background()
	old, shared, young := diskImage(10, 6*cs), diskImage(11, 6*cs), diskImage(12, 6*cs)
	writePoint(t, rp, vmA, t0, append(old, shared...))
	writePoint(t, rp, vmB, t0, append(shared, young...))
	if err := rp.Delete(ctx, repo.Point{VM: vmA, Time: t0}); err != nil {
		t.Fatal(err)
	}
	// A grace period longer than the test keeps every chunk.
	rep, err := rp.GC(ctx, repo.GCOptions{Grace: time.Hour})
	if err != nil || rep.Swept != 0 || rep.Young != 3 {
		t.Fatalf("gc with a 1h grace = %+v, %v: want nothing swept, 3 young", rep, err)
	}
	// With no grace, a chunk is swept once it is older than the sweep marker: S3 keeps
	// whole seconds, so GC runs until the marker's second has passed.
	swept := 0
	testsupport.Eventually(t, 5*time.Second, "gc sweeping vm A's chunks", func() bool {
		rep, err = rp.GC(ctx, repo.GCOptions{Grace: -1})
		if err != nil || rep.Manifests != 1 || rep.Referenced != 6 {
			t.Fatalf("gc = %+v, %v: want 1 manifest, 6 referenced chunks", rep, err)
		}
		swept += rep.Swept
		return swept >= 3
	})
	if swept != 3 {
		t.Fatalf("gc swept %d chunks, want the 3 only vm A used", swept)
	}
	got, err := readDisk(t, rp, repo.Point{VM: vmB, Time: t0})
	if err != nil || len(got) != 12*cs {
		t.Fatalf("vm B after gc: %d bytes, %v", len(got), err)
	}
	// A second GC has nothing left to do.
	if rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Swept != 0 || rep.Chunks != 6 {
		t.Fatalf("second gc = %+v, %v: want nothing swept, 6 chunks", rep, err)
	}
}
