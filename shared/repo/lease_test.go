package repo

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
)

// countingRemote counts the listings of the sweep markers (a backup looking for a sweep).
type countingRemote struct {
	remote.Remote
	sweepLists atomic.Int64
}

func (c *countingRemote) List(ctx context.Context, prefix string) ([]remote.Info, error) {
	if prefix == sweepPrefix {
		c.sweepLists.Add(1)
	}
	return c.Remote.List(ctx, prefix)
}

func newTestRepo(t *testing.T, opts ...Option) (*Repo, *countingRemote, string) {
	t.Helper()
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingRemote{Remote: d}
	rp, err := Init(context.Background(), c, InitOptions{ChunkSize: MinChunkSize}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rp, c, root
}

// A backup does not start while a GC sweeps, and starts once the sweep ends.
func TestBackupWaitsForSweep(t *testing.T) {
	ctx := context.Background()
	rp, c, _ := newTestRepo(t, WithPoll(time.Millisecond))
	marker, live, err := rp.beginSweep(ctx, []byte(`{}`))
	if err != nil || marker == nil || len(live) != 0 {
		t.Fatalf("beginSweep = %v, %v, %v", marker, live, err)
	}
	started := make(chan error, 1)
	go func() {
		b, err := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", time.Now())
		if err == nil {
			err = b.Abort(ctx)
		}
		started <- err
	}()
	testsupport.Eventually(t, 5*time.Second, "the backup looking for sweeps 3 times", func() bool { return c.sweepLists.Load() >= 3 })
	select {
	case err := <-started:
		t.Fatalf("backup started during a sweep (err %v)", err)
	default:
	}
	if n := len(mustList(t, rp, sessionsPrefix)); n > 1 {
		t.Fatalf("%d backup leases while waiting, want at most the one being retried", n)
	}
	if err := marker.release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-started; err != nil {
		t.Fatalf("backup after the sweep: %v", err)
	}
	if n := len(mustList(t, rp, sessionsPrefix)); n != 0 {
		t.Fatalf("%d leases left after Abort, want 0", n)
	}
}

// The marker of a GC that crashed stops blocking backups once it is stale, by the remote's
// clock; so does a crashed backup's lease stop deferring GC.
func TestStaleLeasesAreIgnored(t *testing.T) {
	ctx := context.Background()
	rp, _, root := newTestRepo(t, WithPoll(time.Millisecond), WithStaleAfter(time.Minute))
	for _, key := range []string{sweepPrefix + "crashed.json", sessionsPrefix + "crashed.json"} {
		if err := remote.Put(ctx, rp.r, key, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-2 * time.Minute)
		if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(key)), old, old); err != nil {
			t.Fatal(err)
		}
	}
	b, err := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", time.Now())
	if err != nil {
		t.Fatalf("backup beside a stale sweep marker: %v", err)
	}
	if err := b.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := rp.GC(ctx, GCOptions{Grace: -1})
	if err != nil || rep.Deferred {
		t.Fatalf("gc beside a stale backup lease = %+v, %v: want a sweep", rep, err)
	}
}

// A lease whose refreshes were further apart than half its validity is never trusted again.
func TestLapsedLeaseRefusesCommit(t *testing.T) {
	ctx := context.Background()
	rp, _, _ := newTestRepo(t, WithStaleAfter(time.Hour))
	b, err := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	b.lease.mu.Lock()
	b.lease.last = time.Now().Add(-time.Hour) // as if the process had been stopped
	b.lease.mu.Unlock()
	if _, err := b.Commit(ctx, []byte(`{}`)); err == nil {
		t.Fatal("commit on a lapsed lease succeeded")
	}
	if n := len(mustList(t, rp, vmsPrefix)); n != 0 {
		t.Fatalf("%d manifests after a refused commit, want 0", n)
	}
}

func mustList(t *testing.T, rp *Repo, prefix string) []remote.Info {
	t.Helper()
	infos, err := rp.r.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return infos
}
