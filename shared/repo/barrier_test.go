package repo_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/repo"
)

// failingBarrier is a dir remote whose batches fail their Barrier (an injected fault: a
// folder fsync that fails).
type failingBarrier struct{ *dir.Dir }

func (f failingBarrier) NewBatch(ctx context.Context) (remote.Batch, error) {
	b, err := f.Dir.NewBatch(ctx)
	return barrierFault{b}, err
}

type barrierFault struct{ remote.Batch }

func (barrierFault) Barrier(context.Context) error {
	return errors.New("injected: fsync of a chunk folder failed")
}

// The durability barrier comes before the manifest: when it fails, Commit fails and no
// restore point exists, so no manifest can name a chunk whose name is not durable.
func TestFailedBarrierCommitsNothing(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rp := initRepo(t, failingBarrier{d}, repo.Key{})
	b, err := rp.Begin(ctx, vmA, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	image := diskImage(3, 4*cs)
	w, _ := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err := w.Put(ctx, 0, image[:cs]); err != nil {
		t.Fatal(err)
	}
	if err := w.Fill(ctx, bytes.NewReader(image[cs:])); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, []byte(`{}`)); err == nil {
		t.Fatal("Commit succeeded although the chunks' barrier failed")
	}
	if _, err := rp.Manifest(ctx, repo.Point{VM: vmA, Time: t0}); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("manifest after a failed barrier: %v, want none (ErrNotFound)", err)
	}
}

// A mirror commits the copied point's manifest only after the target's barrier: the chunks
// it copied, and those it found there (another writer's batch may not have made their names
// durable yet), must be durable before a manifest names them. When the barrier fails, the
// copy fails and the target has no point.
func TestFailedBarrierCopiesNoPoint(t *testing.T) {
	ctx := context.Background()
	src := initRepo(t, newDir(t), repo.Key{})
	writePoint(t, src, vmA, t0, diskImage(4, 4*cs))
	d, err := dir.New("offsite", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dst, err := repo.InitMirror(ctx, failingBarrier{d}, src, repo.Key{})
	if err != nil {
		t.Fatal(err)
	}
	p := repo.Point{VM: vmA, Time: t0}
	if _, err := repo.CopyPoint(ctx, src, dst, p); err == nil {
		t.Fatal("CopyPoint succeeded although the target's barrier failed")
	}
	if _, err := dst.Manifest(ctx, p); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("manifest on the target after a failed barrier: %v, want none (ErrNotFound)", err)
	}
}

// failingLeaseRemoval is a dir remote that cannot remove a backup's lease (an injected
// fault).
type failingLeaseRemoval struct{ *dir.Dir }

func (f failingLeaseRemoval) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, repo.Root+"/sessions/") {
		return errors.New("injected: lease removal failed")
	}
	return f.Dir.Delete(ctx, key)
}

// Once its manifest is written a point is committed: a failure cleaning up after it (the
// lease's removal; the lease goes stale and a GC removes it) is not Commit's failure, or
// the caller would undo a point that exists.
func TestCommitStandsWhenCleanupFails(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rp := initRepo(t, failingLeaseRemoval{d}, repo.Key{})
	b, err := rp.Begin(ctx, vmA, t0)
	if err != nil {
		t.Fatal(err)
	}
	image := diskImage(5, 3*cs)
	w, _ := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err := w.Fill(ctx, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, []byte(`{}`)); err != nil {
		t.Fatalf("Commit = %v, want the committed point reported as such", err)
	}
	if _, err := rp.Manifest(ctx, repo.Point{VM: vmA, Time: t0}); err != nil {
		t.Fatalf("manifest: %v", err)
	}
}
