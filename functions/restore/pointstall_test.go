package restore_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/restoreclient"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// chunkStall serves the env's directory remote, but its chunk reads go
// silent once `budget` bytes of chunks were read (half of them: the restore
// stalls half-way). A silent read heeds the context of its Open when heed is
// set (an S3 GET); otherwise it ignores cancellation and Close, as a read of
// a hard-mounted NFS server gone away, until the test frees it. hung is
// closed when a read first goes silent.
type chunkStall struct {
	rm       remote.Remote
	heed     bool
	budget   atomic.Int64
	hung     chan struct{}
	hungOnce sync.Once
	release  chan struct{}
	freeOnce sync.Once
}

func newChunkStall(t *testing.T, e *env, heed bool) *chunkStall {
	rm, err := testsupport.OpenDir(context.Background(), config.Remote{Name: remoteName, Type: config.RemoteDir, Path: e.root})
	must(t, err)
	var total int64
	must(t, filepath.WalkDir(filepath.Join(e.root, repo.Root, "chunks"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, ierr := d.Info()
			must(t, ierr)
			total += info.Size()
		}
		return err
	}))
	s := &chunkStall{rm: rm, heed: heed, hung: make(chan struct{}), release: make(chan struct{})}
	s.budget.Store(total / 2)
	t.Cleanup(s.free)
	return s
}

// free lets every silent read return.
func (s *chunkStall) free() { s.freeOnce.Do(func() { close(s.release) }) }

// Open opens the repository on the stalling remote (restore.Repos).
func (s *chunkStall) Open(ctx context.Context, _ string) (*repo.Repo, error) {
	return repo.Open(ctx, chunkStallRemote{Remote: s.rm, s: s}, repo.Key{})
}

type chunkStallRemote struct {
	remote.Remote
	s *chunkStall
}

func (r chunkStallRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := r.Remote.Open(ctx, key)
	if err != nil || !strings.HasPrefix(key, repo.Root+"/chunks/") {
		return rc, err
	}
	return &chunkStallReader{ctx: ctx, rc: rc, s: r.s}, nil
}

type chunkStallReader struct {
	ctx context.Context // the Open's, which an S3 GET heeds
	rc  io.ReadCloser
	s   *chunkStall
}

func (r *chunkStallReader) Read(p []byte) (int, error) {
	left := r.s.budget.Load()
	if left <= 0 {
		r.s.hungOnce.Do(func() { close(r.s.hung) })
		if !r.s.heed {
			<-r.s.release
			return 0, errors.New("the NFS server came back too late")
		}
		select {
		case <-r.s.release:
			return 0, errors.New("released")
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	n, err := r.rc.Read(p[:min(int64(len(p)), left)])
	r.s.budget.Add(-int64(n))
	return n, err
}

func (r *chunkStallReader) Close() error { return r.rc.Close() }

// pointStallHandler stores a restore point of a halted VM and returns a
// handler whose pool has stall timeout stall and whose repository's chunk
// reads go silent half-way.
func pointStallHandler(t *testing.T, e *env, stall time.Duration, heed bool) (*restore.Handler, *chunkStall, string) {
	src := e.halted()
	id, _ := e.storePoint(e.useRepos(nil), remoteName, src, time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	user, pass := e.sim.Credentials()
	pools := fn.NewPools([]config.Pool{{Name: poolName, URL: e.url, Username: user, Password: config.NewSecret(pass),
		StallTimeout: stall}}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { pools.Close(context.Background()) })
	s := newChunkStall(t, e, heed)
	return restore.New(pools, e.remotes, e.conn, events.Subjects{}, restore.Options{HoldBack: 4096, Repos: s}), s, id.String()
}

// A restore point whose chunk reads go silent half-way (heeding
// cancellation or not) must fail the restore once the pool's stall timeout
// has passed, saying the backup read stalled, and leave no VM.
func TestRestorePointWhoseChunkReadsStallFails(t *testing.T) {
	for _, c := range []struct {
		name string
		heed bool
	}{{"silent", true}, {"ignoring cancellation", false}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, xapisim.Options{DisksPerVM: 2})
			h, s, id := pointStallHandler(t, e, 2*time.Second, c.heed)
			before := e.objects()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := runHandle(ctx, h, request(t, restoreclient.Params{BackupID: id}, 1))
			var got handled
			select {
			case got = <-done:
			case <-time.After(30 * time.Second):
				cancel()
				s.free()
				<-done
				t.Fatalf("a restore of a point whose chunk reads stalled half-way was still running after 30 s, with a 2 s stall timeout")
			}
			if got.err != nil || len(got.outs) != 1 {
				t.Fatalf("outcome: %d follow-ups, %v; want restore.failed", len(got.outs), got.err)
			}
			rec, err := events.Decode(got.outs[0].Subject, mustHeaders(t, got.outs[0]), got.outs[0].Event.Data())
			must(t, err)
			f, ok := rec.Payload.(events.RestoreFailed)
			if !ok || !strings.Contains(f.Error, "the backup read stalled") {
				t.Fatalf("outcome %+v: want restore.failed saying the backup read stalled", rec.Payload)
			}
			t.Logf("reason: %s", f.Error)
			if got := e.objects(); got != before {
				t.Fatalf("a restore whose point read stalled left objects: %s, before %s", got, before)
			}
		})
	}
}

// Shutting down while a chunk read of a restore point hangs and ignores
// cancellation must end the handler at once, not when the read returns.
func TestShutdownDoesNotWaitForAHungChunkRead(t *testing.T) {
	e := newEnv(t, xapisim.Options{DisksPerVM: 2})
	h, s, id := pointStallHandler(t, e, 10*time.Minute, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runHandle(ctx, h, request(t, restoreclient.Params{BackupID: id}, 1))
	select {
	case <-s.hung:
	case <-time.After(30 * time.Second):
		t.Fatal("the chunk read never hung")
	}
	cancel()
	select {
	case got := <-done:
		if got.err == nil || len(got.outs) != 0 {
			t.Fatalf("outcome on shutdown: %d follow-ups, %v; want an error (redelivery)", len(got.outs), got.err)
		}
	case <-time.After(10 * time.Second):
		s.free()
		<-done
		t.Fatal("the handler was still running 10 s after its context ended, held by a hung chunk read")
	}
}
