package repo_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

// Writers and GCs running at once, over and over, never leave a restore point with a
// missing chunk: the rule of doc.go ("GC and backups") holds under contention.
func TestGCWithConcurrentWriters(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rp := initRepo(t, newDir(t), repo.Key{}, repo.WithPoll(2*time.Millisecond))
	images := [][]byte{diskImage(40, 4*cs), diskImage(41, 4*cs), diskImage(42, 4*cs)}
	var wg sync.WaitGroup
	var written, sweeps atomic.Int64
	for i, vm := range []string{vmA, vmB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 12; n++ {
				at := t0.Add(time.Duration(n) * time.Hour)
				writePoint(t, rp, vm, at, images[(n+i)%len(images)])
				written.Add(1)
				if n > 0 { // keep one point: its predecessor's chunks become orphans
					if err := rp.Delete(ctx, repo.Point{VM: vm, Time: at.Add(-time.Hour)}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for ctx.Err() == nil {
			rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1})
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Error(err)
				return
			}
			if !rep.Deferred {
				sweeps.Add(1)
			}
		}
	}()
	wg.Wait()
	cancel()
	<-gcDone
	rep, err := rp.Verify(context.Background(), repo.VerifyOptions{Deep: true})
	if err != nil || rep.Err() != nil || rep.Manifests != 2 {
		t.Fatalf("after %d points and %d sweeps: verify = %+v, %v, %v", written.Load(), sweeps.Load(), rep, err, rep.Err())
	}
	t.Logf("%d points written beside %d sweeps", written.Load(), sweeps.Load())
}

// faultyRemote fails every chunk Delete after the first n (an interrupted sweep).
type faultyRemote struct {
	remote.Remote
	n atomic.Int64
}

func (f *faultyRemote) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, repo.Root+"/chunks/") && f.n.Add(-1) < 0 {
		return errors.New("injected: connection reset")
	}
	return f.Remote.Delete(ctx, key)
}

// A sweep cut short is finished by the next GC.
func TestGCResumesAfterInterruptedSweep(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	rp := initRepo(t, d, repo.Key{})
	writePoint(t, rp, vmA, t0, diskImage(50, 8*cs)) // 5 stored chunks, 3 zero
	if err := rp.Delete(ctx, repo.Point{VM: vmA, Time: t0}); err != nil {
		t.Fatal(err)
	}
	f := &faultyRemote{Remote: d}
	f.n.Store(2)
	broken, err := repo.Open(ctx, f, repo.Key{}, repo.WithConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := broken.GC(ctx, repo.GCOptions{Grace: -1})
	if err == nil || rep.Swept != 2 {
		t.Fatalf("interrupted gc = %+v, %v: want an error after 2 removals", rep, err)
	}
	rep, err = rp.GC(ctx, repo.GCOptions{Grace: -1})
	if err != nil || rep.Swept != 3 || repotest.CountChunks(t, rp) != 0 {
		t.Fatalf("next gc = %+v, %v: want the other 3 removed and no chunk left", rep, err)
	}
}

// GCDue: deleting a point makes the repository due for a GC; a GC that sweeps clears it,
// one that is deferred (a backup runs) or fails leaves it due, so the next one runs.
func TestGCDue(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	rp := initRepo(t, d, repo.Key{})
	due := func(want bool, when string) {
		t.Helper()
		if got, err := rp.GCDue(ctx); err != nil || got != want {
			t.Fatalf("%s: GCDue = %v, %v; want %v", when, got, err, want)
		}
	}
	due(false, "new repository")
	writePoint(t, rp, vmA, t0, diskImage(60, 8*cs))
	writePoint(t, rp, vmA, t0.Add(time.Hour), diskImage(61, 8*cs))
	due(false, "after writing")
	if err := rp.Delete(ctx, repo.Point{VM: vmA, Time: t0}); err != nil {
		t.Fatal(err)
	}
	due(true, "after a deletion")

	b, err := rp.Begin(ctx, vmB, t0) // a backup runs: the GC defers
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || !rep.Deferred {
		t.Fatalf("gc beside a backup = %+v, %v; want deferred", rep, err)
	}
	due(true, "after a deferred GC")
	if err := b.Abort(ctx); err != nil {
		t.Fatal(err)
	}

	f := &faultyRemote{Remote: d}
	broken, err := repo.Open(ctx, f, repo.Key{}, repo.WithConcurrency(1)) // every chunk removal fails
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := broken.GC(ctx, repo.GCOptions{Grace: -1}); err == nil || rep.Swept != 0 {
		t.Fatalf("failing gc = %+v, %v: want an error and nothing removed", rep, err)
	}
	due(true, "after a failed GC")
	if rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Deferred || rep.Swept == 0 {
		t.Fatalf("gc = %+v, %v; want a sweep", rep, err)
	}
	due(false, "after a GC that swept")
}

// The single gc/due.json of earlier builds still makes a repository due, and the GC that
// sweeps removes it.
func TestGCDueHonoursTheEarlierMarker(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	rp := initRepo(t, d, repo.Key{})
	if err := remote.Put(ctx, d, repo.Root+"/gc/due.json", []byte(`{"since":"2026-12-01T00:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	if due, err := rp.GCDue(ctx); err != nil || !due {
		t.Fatalf("GCDue with gc/due.json = %v, %v; want true", due, err)
	}
	if rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Deferred {
		t.Fatalf("gc = %+v, %v", rep, err)
	}
	if due, err := rp.GCDue(ctx); err != nil || due {
		t.Fatalf("GCDue after the GC that swept = %v, %v; want false", due, err)
	}
}

// deleteDuringSweep deletes point once, from inside a GC's sweep (its first chunk removal).
type deleteDuringSweep struct {
	remote.Remote
	once  sync.Once
	do    func() error
	fired error
}

func (d *deleteDuringSweep) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, repo.Root+"/chunks/") {
		d.once.Do(func() { d.fired = d.do() })
	}
	return d.Remote.Delete(ctx, key)
}

// A point deleted while a GC sweeps (after that GC's marks read its manifest) leaves the
// repository due, so that the next GC collects the chunks it alone used.
func TestGCDueKeepsADeletionDuringTheSweep(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	rp := initRepo(t, d, repo.Key{})
	writePoint(t, rp, vmA, t0, diskImage(70, 8*cs))
	writePoint(t, rp, vmB, t0, diskImage(71, 8*cs))
	if err := rp.Delete(ctx, repo.Point{VM: vmA, Time: t0}); err != nil {
		t.Fatal(err)
	}
	hook := &deleteDuringSweep{Remote: d, do: func() error { return rp.Delete(ctx, repo.Point{VM: vmB, Time: t0}) }}
	during, err := repo.Open(ctx, hook, repo.Key{}, repo.WithConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := during.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Swept == 0 || hook.fired != nil {
		t.Fatalf("gc = %+v, %v (deletion during it: %v); want a sweep", rep, err, hook.fired)
	}
	if due, err := rp.GCDue(ctx); err != nil || !due {
		t.Fatalf("GCDue after a point was deleted during the sweep = %v, %v; want true", due, err)
	}
	if rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Swept == 0 || repotest.CountChunks(t, rp) != 0 {
		t.Fatalf("next gc = %+v, %v: want the deleted point's chunks removed", rep, err)
	}
	if due, err := rp.GCDue(ctx); err != nil || due {
		t.Fatalf("GCDue after the GC that swept = %v, %v; want false", due, err)
	}
}

// An upload a crashed backup left half-written is removed by the next GC that sweeps, and
// a restore point is never written twice.
func TestGCRemovesCrashedUploads(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, _ := dir.New("nfs", root)
	rp := initRepo(t, d, repo.Key{})
	writePoint(t, rp, vmA, t0, diskImage(70, 2*cs))
	if _, err := rp.Begin(ctx, vmA, t0); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("Begin of an existing point = %v, want refused", err)
	}
	u, err := d.Create(ctx, repo.Root+"/chunks/ab/"+strings.Repeat("ab", 32), -1)
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("half a chunk")) // the process dies here: no Commit, no Abort
	temps, err := d.ListTemp(ctx, repo.Root+"/")
	if err != nil || len(temps) != 1 {
		t.Fatalf("temps = %v, %v: want the one upload", temps, err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(temps[0].ID)), old, old); err != nil {
		t.Fatal(err)
	}
	rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1})
	if err != nil || rep.Temps != 1 || rep.Swept != 0 {
		t.Fatalf("gc = %+v, %v: want the crashed upload removed and no chunk swept", rep, err)
	}
	if temps, _ := d.ListTemp(ctx, repo.Root+"/"); len(temps) != 0 {
		t.Fatalf("temps left after gc: %v", temps)
	}
}

// A disk writer's chunk-id spool is never a file anyone could leave behind: a backup
// killed while writing (SIGKILL, no deferred cleanup) leaves nothing in the temp folder.
func TestSpoolLeavesNoFile(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	rp := initRepo(t, newDir(t), repo.Key{}, repo.WithTempDir(tmp))
	b, err := rp.Begin(ctx, vmA, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Abort(ctx) }()
	image := diskImage(70, 4*cs)
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, 0, image[:cs]); err != nil {
		t.Fatal(err)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Fatalf("temp folder while a disk is written: %v, %v; want nothing a kill could leave", left, err)
	}
	if err := w.Fill(ctx, bytes.NewReader(image[cs:])); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := repotest.ReadDisk(t, rp, repo.Point{VM: vmA, Time: t0}); err != nil || !bytes.Equal(got, image) {
		t.Fatalf("point read back: %v", err)
	}
}

// The lease of a crashed backup and the marker of a crashed GC go stale and are ignored;
// the next GC that sweeps removes them, so that sessions/ and gc/sweeping/, which every
// backup and GC list, do not grow with every crash.
func TestGCRemovesStaleLeases(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, _ := dir.New("nfs", root)
	rp := initRepo(t, d, repo.Key{})
	old := time.Now().Add(-time.Hour) // beyond twice the default validity (10 minutes)
	var keys []string
	for _, k := range []string{repo.Root + "/sessions/crashed.json", repo.Root + "/gc/sweeping/crashed.json"} {
		remotetest.PutBytes(t, d, k, []byte(`{}`))
		if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(k)), old, old); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1})
	if err != nil || rep.Deferred || rep.StaleLeases != 2 {
		t.Fatalf("gc = %+v, %v; want a sweep that removed the 2 stale leases", rep, err)
	}
	for _, k := range keys {
		if _, err := d.Stat(ctx, k); !errors.Is(err, remote.ErrNotFound) {
			t.Errorf("%s after gc: %v, want it removed", k, err)
		}
	}
}
