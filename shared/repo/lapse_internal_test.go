package repo

import (
	"bytes"
	"context"
	"encoding/json"
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
)

// stallRemote is the remote as a backup host sees it when its link to the remote stalls:
// once stalled, lease writes fail (their requests time out), and the Commit of a manifest
// hangs until release is closed, then completes (a hard NFS mount's rename, or an S3
// upload's last part, delivered once the link comes back).
type stallRemote struct {
	remote.Remote
	stalled atomic.Bool
	// stallAtManifest stalls the remote when a manifest's upload is created.
	stallAtManifest atomic.Bool
	// failCommit makes a stalled manifest's Commit fail once it has landed (its answer lost).
	failCommit bool
	hanging    chan struct{}
	release    chan struct{}
	hangOnce   sync.Once
}

type stallUpload struct {
	remote.Upload
	r   *stallRemote
	key string
}

func (s *stallRemote) Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error) {
	if s.stallAtManifest.Load() && strings.HasPrefix(key, vmsPrefix) {
		s.stalled.Store(true)
	}
	if s.stalled.Load() && strings.HasPrefix(key, sessionsPrefix) {
		return nil, errors.New("injected: remote unreachable")
	}
	u, err := s.Remote.Create(ctx, key, sizeHint)
	if err != nil {
		return nil, err
	}
	return &stallUpload{Upload: u, r: s, key: key}, nil
}

func (u *stallUpload) Commit(ctx context.Context) error {
	if u.r.stalled.Load() && strings.HasPrefix(u.key, vmsPrefix) {
		u.r.hangOnce.Do(func() { close(u.r.hanging) })
		<-u.r.release
		if err := u.Upload.Commit(ctx); err != nil || !u.r.failCommit {
			return err
		}
		return errors.New("injected: the commit's answer was lost")
	}
	return u.Upload.Commit(ctx)
}

// A backup's Commit checks its lease just before the manifest's commit, but nothing bounds
// the commit itself: when the remote stalls there for longer than the lease's validity (its
// refreshes failing meanwhile), a GC on another host takes the lease for a crashed
// backup's, sweeps the old unreferenced chunk the backup re-used, and the manifest then
// lands naming a chunk that no longer exists. Commit reports success.
func TestCommitStalledPastLeaseNamesSweptChunk(t *testing.T) { commitStalledPastLease(t, false) }

// The same when the stalled commit lands but its answer is lost: Commit fails, and the
// manifest must not stay behind naming the swept chunk.
func TestCommitFailedPastLeaseLeavesNoBrokenPoint(t *testing.T) { commitStalledPastLease(t, true) }

func commitStalledPastLease(t *testing.T, failCommit bool) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	const stale = time.Second // leases refreshed every 200 ms
	gcHost, err := Init(ctx, d, InitOptions{ChunkSize: MinChunkSize}, WithStaleAfter(stale), WithPoll(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s := &stallRemote{Remote: d, failCommit: failCommit, hanging: make(chan struct{}), release: make(chan struct{})}
	backupHost, err := Open(ctx, s, Key{}, WithStaleAfter(stale), WithPoll(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	const vm = "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f"
	data := bytes.Repeat([]byte("old chunk "), MinChunkSize/10+1)[:MinChunkSize]
	id := gcHost.ChunkID(data)

	// An old point used the chunk and was deleted long ago: the chunk is unreferenced and
	// older than the grace period.
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeOnePoint(t, gcHost, vm, old, data)
	if err := gcHost.Delete(ctx, Point{VM: vm, Time: old}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(chunkKey(id))), past, past); err != nil {
		t.Fatal(err)
	}

	// The backup re-uses it (found stored), then commits while the remote stalls.
	b, err := backupHost.Begin(ctx, vm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w, err := b.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, 0, data); err != nil {
		t.Fatal(err)
	}
	if _, st, err := w.Close(ctx); err != nil || st.DedupChunks != 1 {
		t.Fatalf("close disk: %+v, %v; want the chunk found stored", st, err)
	}
	s.stalled.Store(true)
	committed := make(chan error, 1)
	go func() {
		_, err := b.Commit(ctx, json.RawMessage(`{}`))
		committed <- err
	}()
	select {
	case <-s.hanging:
	case err := <-committed:
		t.Fatalf("commit ended before its manifest's commit stalled: %v", err)
	}

	// Another host's GC, once the stalled backup's lease has gone stale, sweeps (default grace).
	var rep GCReport
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep, err = gcHost.GC(ctx, GCOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Deferred || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rep.Deferred {
		t.Fatalf("gc still deferred after 10 s: %+v", rep)
	}

	close(s.release) // the link comes back; the manifest's commit completes
	s.stalled.Store(false)
	cerr := <-committed
	vr, err := gcHost.Verify(ctx, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if vr.Err() != nil {
		t.Fatalf("Commit returned %v (gc swept %d chunk(s) while its manifest's commit stalled), and the point it wrote is broken: %v",
			cerr, rep.Swept, vr.Err())
	}
	if rep.Swept == 0 || !errors.Is(cerr, ErrLeaseLapsed) {
		t.Fatalf("gc swept %d chunks, Commit returned %v: want the chunk swept and the commit failed with ErrLeaseLapsed", rep.Swept, cerr)
	}
}

// writeOnePoint writes a one-disk point of vm at at whose image is data.
func writeOnePoint(t *testing.T, rp *Repo, vm string, at time.Time, data []byte) {
	t.Helper()
	ctx := context.Background()
	b, err := rp.Begin(ctx, vm, at)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	w, err := b.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Fill(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
}

// The same for a mirror: CopyPoint finds a chunk already on the target (an old one, from a
// point deleted there), checks its lease before the manifest's commit, and the commit then
// stalls past the lease's validity; the target's GC sweeps the chunk meanwhile, and the
// copied point lands broken on the target while CopyPoint reports success.
func TestCopyPointStalledPastLeaseNamesSweptChunk(t *testing.T) {
	ctx := context.Background()
	const stale = time.Second
	opts := []Option{WithStaleAfter(stale), WithPoll(10 * time.Millisecond)}
	sd, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := Init(ctx, sd, InitOptions{ChunkSize: MinChunkSize}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dd, err := dir.New("offsite", root)
	if err != nil {
		t.Fatal(err)
	}
	dstGC, err := InitMirror(ctx, dd, src, Key{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	s := &stallRemote{Remote: dd, hanging: make(chan struct{}), release: make(chan struct{})}
	dstMirror, err := Open(ctx, s, Key{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	const vm = "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f"
	data := bytes.Repeat([]byte("old chunk "), MinChunkSize/10+1)[:MinChunkSize]
	id := src.ChunkID(data)
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeOnePoint(t, dstGC, vm, old, data) // on the target long ago, deleted since
	if err := dstGC.Delete(ctx, Point{VM: vm, Time: old}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(chunkKey(id))), past, past); err != nil {
		t.Fatal(err)
	}
	p := Point{VM: vm, Time: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)}
	writeOnePoint(t, src, vm, p.Time, data)

	// Stall the target once the chunks are done: from the manifest's upload on.
	s.stallAtManifest.Store(true)
	copied := make(chan error, 1)
	var st CopyStats
	go func() {
		var err error
		st, err = CopyPoint(ctx, src, dstMirror, p)
		copied <- err
	}()
	select {
	case <-s.hanging:
	case err := <-copied:
		t.Fatalf("copy ended before its manifest's commit stalled: %v", err)
	}
	var rep GCReport
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rep, err = dstGC.GC(ctx, GCOptions{}); err != nil {
			t.Fatal(err)
		}
		if !rep.Deferred || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stallAtManifest.Store(false)
	s.stalled.Store(false)
	close(s.release)
	cerr := <-copied
	vr, err := dstGC.Verify(ctx, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cerr == nil && vr.Err() != nil {
		t.Fatalf("CopyPoint succeeded (%+v; the target's gc swept %d chunk(s) while the manifest's commit stalled), and the copy is broken: %v",
			st, rep.Swept, vr.Err())
	}
}
