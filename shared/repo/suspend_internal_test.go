package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
)

// hostClock is the wall clock of a host that can be suspended (a paused or suspended VM, a
// laptop's lid closed): suspend moves it on while the process stands still. Go's monotonic
// clock, which time.Since and the difference of two time.Now readings use, does not move
// during a suspend; the wall clock does, and so does the remote's.
type hostClock struct {
	mu    sync.Mutex
	slept time.Duration
}

func (c *hostClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Round(0).Add(c.slept)
}

func (c *hostClock) suspend(d time.Duration) {
	c.mu.Lock()
	c.slept += d
	c.mu.Unlock()
}

// remoteAged sets back by d the ModTime of every object of the dir remote at root: what the
// other hosts find on the remote once d has passed on its clock without a write from the
// suspended host.
func remoteAged(t *testing.T, root string, d time.Duration) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		return os.Chtimes(path, fi.ModTime().Add(-d), fi.ModTime().Add(-d))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A backup host suspended for longer than its lease's validity, between re-using an old
// unreferenced chunk and committing: every other host has seen its lease lapse, and a GC
// swept the chunk. On resume the holder must not trust its lease, whatever its monotonic
// clock says, or it commits a restore point naming the swept chunk.
func TestBackupResumedAfterSuspendRefusesCommit(t *testing.T) { backupResumed(t, true) }

// TestBackupResumedWithLaggingWallClockRefusesCommit: the same, but the host's wall clock
// did not move on through the suspend (a paused KVM or VMware guest keeps its clock until it
// is synced again after resume, which libvirt leaves to `virsh domtime --sync`). The next
// refresh, which would see the gap by the remote's ModTimes, may come up to staleAfter/5
// after the commit: the commit must find it by itself.
func TestBackupResumedWithLaggingWallClockRefusesCommit(t *testing.T) { backupResumed(t, false) }

// backupResumed runs a backup host's suspend between re-using an old unreferenced chunk and
// committing, while a GC on another host sweeps it; wallMoves says whether the backup host's
// wall clock moved on through the suspend.
func backupResumed(t *testing.T, wallMoves bool) {
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
	clk := &hostClock{}
	backupHost, err := Open(ctx, d, Key{}, WithStaleAfter(stale), WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	const vm = "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f"
	data := bytes.Repeat([]byte("old chunk "), MinChunkSize/10+1)[:MinChunkSize]
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeOnePoint(t, gcHost, vm, old, data) // deleted since: its chunk is unreferenced, and old
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
	if wallMoves {
		clk.suspend(slept)
	}
	remoteAged(t, root, slept) // the remote's clock moved on
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
		t.Fatalf("after a suspend of %s (lease valid %s, wall clock moved on: %v), Commit returned %v and the repository verifies as %v: want the commit refused, nothing broken",
			slept, stale, wallMoves, cerr, vr.Err())
	}
}

// The same for a GC host suspended in the middle of its sweep: meanwhile its marker lapsed
// for everyone else and a backup started and re-used an unreferenced chunk. On resume the
// sweep must stop before removing it.
func TestSweepResumedAfterSuspendStops(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingRemote{Remote: d, hanging: make(chan struct{}), release: make(chan struct{})}
	const stale = 10 * time.Minute // no refresh during the test
	clk := &hostClock{}
	gcHost, err := Init(ctx, h, InitOptions{ChunkSize: MinChunkSize}, WithConcurrency(1), WithStaleAfter(stale),
		WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	backupHost, err := Open(ctx, d, Key{}, WithStaleAfter(stale))
	if err != nil {
		t.Fatal(err)
	}
	var a, b ChunkID // unreferenced, in one shard: b's removal comes after a's
	a[1], b[1] = 1, 2
	for _, id := range []ChunkID{a, b} {
		if err := remote.Put(ctx, d, chunkKey(id), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	remoteAged(t, root, time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := gcHost.GC(ctx, GCOptions{Grace: -1})
		done <- err
	}()
	<-h.hanging // the host is suspended while it removes a

	const slept = 3 * stale
	clk.suspend(slept)
	remoteAged(t, root, slept)
	bk, err := backupHost.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bk.Abort(ctx) }()
	if _, err := bk.chunks.Stat(ctx, chunkKey(b)); err != nil { // the backup re-uses b
		t.Fatal(err)
	}
	close(h.release) // the GC host resumes
	gcErr := <-done
	if _, err := d.Stat(ctx, chunkKey(b)); err != nil {
		t.Fatalf("after a suspend of %s (marker valid %s), the sweep removed a chunk a running backup re-uses (gc: %v): %v",
			slept, stale, gcErr, err)
	}
	if gcErr == nil {
		t.Fatal("gc succeeded though its marker lapsed while the host slept")
	}
}

// A holder whose host slept for longer than the lease's validity between two refreshes
// stops trusting the lease for good, as after any refreshes too far apart: the first
// refresh after the suspend does not make it trusted again.
func TestLeaseLapsesWhenRefreshedAfterSuspend(t *testing.T) {
	ctx := context.Background()
	clk := &hostClock{}
	const stale = time.Second // refreshed every 200 ms
	rp, _, _ := newTestRepo(t, WithStaleAfter(stale), WithPoll(10*time.Millisecond), WithClock(clk.now))
	l, err := rp.beginSession(ctx, sessionsPrefix, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.release(ctx) }()
	l.mu.Lock()
	before := l.last
	l.mu.Unlock()
	clk.suspend(time.Hour)
	testsupport.Eventually(t, 5*time.Second, "a refresh after the suspend", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return !l.last.Equal(before)
	})
	if err := l.fresh(); err == nil {
		t.Fatal("the lease was refreshed an hour after the previous refresh (valid 1s), and its holder trusts it")
	}
}

// aheadRemote is a remote whose clock moved on by ahead while the holder's host did not
// see that time pass (its wall clock lagging after a resume until it is set again): the
// ModTimes it reports are what every other host judges leases by.
type aheadRemote struct {
	remote.Remote
	mu    sync.Mutex
	ahead time.Duration
}

func (a *aheadRemote) Stat(ctx context.Context, key string) (remote.Info, error) {
	in, err := a.Remote.Stat(ctx, key)
	a.mu.Lock()
	defer a.mu.Unlock()
	in.ModTime = in.ModTime.Add(a.ahead)
	return in, err
}

// The remote's view decides: when two writes of a lease are further apart than half its
// validity by the remote's clock, others may have taken it for a crashed holder's, whatever
// the holder's own clocks say.
func TestLeaseLapsesWhenRemoteSawRefreshesFarApart(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := &aheadRemote{Remote: d}
	const stale = time.Second // refreshed every 200 ms
	rp, err := Init(ctx, a, InitOptions{ChunkSize: MinChunkSize}, WithStaleAfter(stale), WithPoll(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	l, err := rp.beginSession(ctx, sessionsPrefix, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.release(ctx) }()
	a.mu.Lock()
	a.ahead = time.Hour
	a.mu.Unlock()
	moved := time.Now().Round(0)
	testsupport.Eventually(t, 5*time.Second, "a refresh begun after the remote's clock moved on", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.last.After(moved)
	})
	if err := l.fresh(); err == nil {
		t.Fatal("by the remote's clock the lease went unwritten for an hour (valid 1s), and its holder trusts it")
	}
}
