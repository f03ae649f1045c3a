package incremental_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/events"
	"xbr/shared/repo"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestFailureKeepsTheBase: a run that fails before its commit leaves no
// point, no snapshot and no snapshot data, and the previous base still
// serves the next run's changed-block read.
func TestFailureKeepsTheBase(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "nbd", "enable", false)
	e.run()
	network := e.sim.Refs("network")[0]
	if _, err := e.client.Call(ctx, "network.remove_purpose", network, "nbd"); err != nil {
		t.Fatal(err)
	}
	e.sim.SetFaults(xapisim.Faults{DropAfter: 1 << 20}) // the full scan the missing NBD forces breaks
	id, done := e.fire()
	if done.Status != events.StatusFailure {
		t.Fatalf("run with a broken transfer: %+v", done)
	}
	e.assertFailedOnce(id, "")
	e.assertBases(2)
	e.sim.SetFaults(xapisim.Faults{})
	if _, err := e.client.Call(ctx, "network.add_purpose", network, "nbd"); err != nil {
		t.Fatal(err)
	}
	e.guestWrite(e.liveDisks()[1], 0, 512, 5)
	before := e.nbdRead()
	next := e.run()
	if next.Path != events.PathCBT || e.nbdRead()-before != xapi.CBTBlockSize {
		t.Fatalf("run after the failure: path %s (%s), nbd_read %d, want one changed block", next.Path, next.PathReason, e.nbdRead()-before)
	}
	e.assertPoint(next)
	e.assertBases(2)
}

// TestWrongKeyFailsOnceClearly: a repository created with another key is
// refused, and the failed event says so once, without repeating the
// repository's name.
func TestWrongKeyFailsOnceClearly(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "repo.key")
	ours, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.WriteKeyFile(keyFile, ours); err != nil {
		t.Fatal(err)
	}
	e := newEnvKey(t, "nbd", "enable", false, keyFile)
	ctx := context.Background()
	rm, err := e.rems.Get(ctx, "repo")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Init(ctx, rm, repo.InitOptions{Key: theirs}); err != nil {
		t.Fatal(err)
	}
	id, done := e.fire()
	if done.Status != events.StatusFailure {
		t.Fatalf("run with the wrong key: %+v", done)
	}
	for _, r := range e.stored() {
		p, ok := r.Payload.(events.IncrementalFailed)
		if !ok || p.RunID != id {
			continue
		}
		if !strings.Contains(p.Error, repo.ErrWrongKey.Error()) || strings.Count(p.Error, "repository on remote repo") != 1 {
			t.Errorf("error %q: want the wrong key named, the repository once", p.Error)
		}
		return
	}
	t.Fatal("no incremental.failed")
}

// TestNBDCutMidReadFailsCleanly: when the host's NBD connections break
// after their first changed block, with more changed chunks queued behind
// it, the run fails saying so, commits no point, keeps the base, and the
// next run reads the same changed blocks over NBD and commits a sound point.
func TestNBDCutMidReadFailsCleanly(t *testing.T) {
	e := newEnv(t, "nbd", "enable", false)
	e.run()
	disk := e.liveDisks()[0]
	for i := range int64(4) {
		e.guestWrite(disk, i*chunkSize+4096, 512, int(10+i))
	}
	e.sim.SetFaults(xapisim.Faults{NBDReadFailAfter: xapi.CBTBlockSize})
	id, done := e.fire()
	if done.Status != events.StatusFailure {
		t.Fatalf("run with NBD reads cut: %+v", done)
	}
	e.assertFailedOnce(id, "NBD")
	e.assertBases(2)
	e.sim.SetFaults(xapisim.Faults{})
	before := e.nbdRead()
	next := e.run()
	if next.Path != events.PathCBT || e.nbdRead()-before != 4*xapi.CBTBlockSize {
		t.Fatalf("run after the cut: path %s (%s), nbd_read %d", next.Path, next.PathReason, e.nbdRead()-before)
	}
	e.assertPoint(next)
}

// TestDamagedNewestPointIsNoBase: when the newest restore point's manifest
// is damaged, the next run reads the disks whole and commits a sound point,
// instead of failing on that manifest run after run (no newer point could
// ever be written, and retention never removes the newest).
func TestDamagedNewestPointIsNoBase(t *testing.T) {
	e := newEnv(t, "nbd", "enable", false)
	first := e.run()
	dir := e.cfg.Remotes[0].Path
	path := filepath.Join(dir, "xbr-repo", "vms", first.VMUUID, first.Timestamp+".json")
	if err := os.WriteFile(path, []byte(`{"format":"xbr-repo-manifest","version":`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.guestWrite(e.liveDisks()[0], 0, 4096, 3)
	exported := e.exportRead()
	next := e.run()
	exported = e.exportRead() - exported
	if next.Path != events.PathFullScan || next.BytesRead != exported || exported == 0 {
		t.Fatalf("run after the newest point was damaged: path %s (%s), %d bytes read, the host sent %d; want both disks read whole",
			next.Path, next.PathReason, next.BytesRead, exported)
	}
	e.assertPoint(next)
	e.assertBases(2) // the first run's bases went with the new point's commit
}

// assertFailedOnce checks that run id failed with one incremental.failed
// whose error contains want (any error when want is ""), and that the
// repository still holds the one point of the run before it.
func (e *env) assertFailedOnce(id, want string) {
	e.t.Helper()
	var failed []events.IncrementalFailed
	for _, r := range e.stored() {
		if p, ok := r.Payload.(events.IncrementalFailed); ok && p.RunID == id {
			failed = append(failed, p)
		}
	}
	if len(failed) != 1 || failed[0].Error == "" || !strings.Contains(failed[0].Error, want) {
		e.t.Fatalf("incremental.failed: %+v", failed)
	}
	ctx := context.Background()
	rp, err := e.repos.Ensure(ctx, "repo")
	if err != nil {
		e.t.Fatal(err)
	}
	if points, err := rp.List(ctx, ""); err != nil || len(points) != 1 {
		e.t.Fatalf("points after the failed run: %v, %v", points, err)
	}
}
