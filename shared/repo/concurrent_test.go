package repo_test

import (
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

// faultyRemote fails every Delete after the first n (an interrupted sweep).
type faultyRemote struct {
	remote.Remote
	n atomic.Int64
}

func (f *faultyRemote) Delete(ctx context.Context, key string) error {
	if f.n.Add(-1) < 0 && len(key) > len(repo.Root+"/chunks/") && key[:len(repo.Root+"/chunks/")] == repo.Root+"/chunks/" {
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
