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

// repoStall serves the env's directory remote, but its reads of the
// repository's keys under prefix (chunks, manifests) go silent once `budget`
// bytes of them were read. A silent read heeds the context of its Open when heed is
// set (an S3 GET); otherwise it ignores cancellation and Close, as a read of
// a hard-mounted NFS server gone away, until the test frees it. hung is
// closed when a read first goes silent.
type repoStall struct {
	rm       remote.Remote
	prefix   string
	heed     bool
	budget   atomic.Int64
	hung     chan struct{}
	hungOnce sync.Once
	release  chan struct{}
	freeOnce sync.Once
}

func newRepoStall(t *testing.T, e *env, heed bool, prefix string, budget int64) *repoStall {
	rm, err := testsupport.OpenDir(context.Background(), config.Remote{Name: remoteName, Type: config.RemoteDir, Path: e.root})
	must(t, err)
	s := &repoStall{rm: rm, prefix: prefix, heed: heed, hung: make(chan struct{}), release: make(chan struct{})}
	s.budget.Store(budget)
	t.Cleanup(s.free)
	return s
}

// chunkBytes is the size of the repository's stored chunks.
func chunkBytes(t *testing.T, e *env) int64 {
	var total int64
	must(t, filepath.WalkDir(filepath.Join(e.root, repo.Root, "chunks"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, ierr := d.Info()
			must(t, ierr)
			total += info.Size()
		}
		return err
	}))
	return total
}

const (
	chunkKeys    = repo.Root + "/chunks/"
	manifestKeys = repo.Root + "/vms/"
)

// free lets every silent read return.
func (s *repoStall) free() { s.freeOnce.Do(func() { close(s.release) }) }

// Open opens the repository on the stalling remote (restore.Repos).
func (s *repoStall) Open(ctx context.Context, _ string) (*repo.Repo, error) {
	return repo.Open(ctx, repoStallRemote{Remote: s.rm, s: s}, repo.Key{})
}

type repoStallRemote struct {
	remote.Remote
	s *repoStall
}

func (r repoStallRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := r.Remote.Open(ctx, key)
	if err != nil || !strings.HasPrefix(key, r.s.prefix) {
		return rc, err
	}
	return &repoStallReader{ctx: ctx, rc: rc, s: r.s}, nil
}

type repoStallReader struct {
	ctx context.Context // the Open's, which an S3 GET heeds
	rc  io.ReadCloser
	s   *repoStall
}

func (r *repoStallReader) Read(p []byte) (int, error) {
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

func (r *repoStallReader) Close() error { return r.rc.Close() }

// pointStallHandler stores a restore point of a halted VM and returns a
// handler whose pool has stall timeout stall and whose repository's reads
// under prefix go silent: half-way through the chunks, at once for the rest.
func pointStallHandler(t *testing.T, e *env, stall time.Duration, heed bool, prefix string) (*restore.Handler, *repoStall, string) {
	src := e.halted()
	id, _ := e.storePoint(e.useRepos(nil), remoteName, src, time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	user, pass := e.sim.Credentials()
	pools := fn.NewPools([]config.Pool{{Name: poolName, URL: e.url, Username: user, Password: config.NewSecret(pass),
		StallTimeout: stall}}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { pools.Close(context.Background()) })
	var budget int64
	if prefix == chunkKeys {
		budget = chunkBytes(t, e) / 2
	}
	s := newRepoStall(t, e, heed, prefix, budget)
	return restore.New(pools, e.remotes, e.conn, events.Subjects{}, restore.Options{HoldBack: 4096, Repos: s}), s, id.String()
}

// A restore point whose chunk reads go silent half-way, or whose manifest
// read does before the import (heeding cancellation or not), must fail the
// restore once the pool's stall timeout has passed, saying the backup read
// stalled, and leave no VM.
func TestRestorePointWhoseReadsStallFails(t *testing.T) {
	for _, c := range []struct {
		name   string
		prefix string
		heed   bool
	}{
		{"chunks silent", chunkKeys, true},
		{"chunks ignoring cancellation", chunkKeys, false},
		{"manifest silent", manifestKeys, true},
		{"manifest ignoring cancellation", manifestKeys, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, xapisim.Options{DisksPerVM: 2})
			h, s, id := pointStallHandler(t, e, 2*time.Second, c.heed, c.prefix)
			before := e.objects()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := runHandle(ctx, h, request(t, restoreclient.Params{BackupID: id}, 1))
			awaitStalled(t, e, done, before, func() { cancel(); s.free() }, "point's reads of "+c.prefix+" stalled")
		})
	}
}

// Shutting down while a chunk read of a restore point hangs and ignores
// cancellation must end the handler at once, not when the read returns.
func TestShutdownDoesNotWaitForAHungChunkRead(t *testing.T) {
	e := newEnv(t, xapisim.Options{DisksPerVM: 2})
	h, s, id := pointStallHandler(t, e, 10*time.Minute, false, chunkKeys)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runHandle(ctx, h, request(t, restoreclient.Params{BackupID: id}, 1))
	awaitShutdown(t, done, s.hung, cancel, s.free, "chunk read")
}
