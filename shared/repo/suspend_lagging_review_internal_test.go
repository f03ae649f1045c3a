package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"xbr/shared/remote/dir"
)

// TestBackupResumedWithLaggingWallClockRefusesCommit: as
// TestBackupResumedAfterSuspendRefusesCommit, but the host's wall clock did
// not move on through the suspend (a paused KVM or VMware guest keeps its
// clock until it is synced again after resume, which libvirt leaves to
// `virsh domtime --sync`). lease.rewritten knows this case ("a host resumed
// with its wall clock still behind sees no gap that the remote saw") and
// catches it by the remote's ModTimes, but only at the next refresh, up to
// staleAfter/5 later: a commit right after resume trusts the lease, and the
// manifest names a chunk the GC swept while the lease had lapsed for
// everyone else.
func TestBackupResumedWithLaggingWallClockRefusesCommit(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	const stale = 10 * time.Minute // no refresh during the test
	gcHost, err := Init(ctx, d, InitOptions{ChunkSize: MinChunkSize}, WithStaleAfter(stale))
	if err != nil {
		t.Fatal(err)
	}
	clk := &hostClock{} // never suspend()ed: the wall clock lags by the time slept
	backupHost, err := Open(ctx, d, Key{}, WithStaleAfter(stale), WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	const vm = "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f"
	data := bytes.Repeat([]byte("old chunk "), MinChunkSize/10+1)[:MinChunkSize]
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeOnePoint(t, gcHost, vm, old, data)
	if err := gcHost.Delete(ctx, Point{VM: vm, Time: old}); err != nil {
		t.Fatal(err)
	}
	remoteAged(t, root, 3*time.Hour)

	b, err := backupHost.Begin(ctx, vm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Abort(ctx) }()
	w, err := b.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, 0, data); err != nil {
		t.Fatal(err)
	}
	if _, st, err := w.Close(ctx); err != nil || st.DedupChunks != 1 {
		t.Fatalf("close disk: %+v, %v; want the old chunk re-used", st, err)
	}

	const slept = 3 * stale
	remoteAged(t, root, slept) // the remote's clock moved on; the host's did not
	rep, err := gcHost.GC(ctx, GCOptions{})
	if err != nil || rep.Deferred || rep.Swept == 0 {
		t.Fatalf("gc on another host while the backup host slept: %+v, %v; want the old chunk swept", rep, err)
	}

	_, cerr := b.Commit(ctx, json.RawMessage(`{}`))
	vr, err := gcHost.Verify(ctx, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cerr == nil || vr.Err() != nil {
		t.Fatalf("after a suspend of %s (lease valid %s) with the wall clock lagging, Commit returned %v and the repository verifies as %v: want the commit refused, nothing broken",
			slept, stale, cerr, vr.Err())
	}
}
