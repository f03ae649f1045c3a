package incremental_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
)

// TestDamagedBaseChunkIsReadWhole: a chunk with one changed block is
// patched over its base chunk, read from the repository; when that base
// chunk is damaged on the remote, the run reads the chunk whole from the
// host instead, warns naming the chunk, and the point is the live disk.
func TestDamagedBaseChunkIsReadWhole(t *testing.T) {
	logs := &testsupport.SyncBuffer{}
	e := newEnvKey(t, "nbd", "enable", false, "", func(d *incremental.Deps) { d.Log = slog.New(slog.NewTextHandler(logs, nil)) })
	disk := e.liveDisks()[0]
	e.guestWrite(disk, 2*chunkSize, chunkSize, 9) // a second chunk holding data
	e.run()
	ctx := context.Background()
	content := readAll(t, func() (io.ReadCloser, error) { return e.client.ExportRawVDI(ctx, disk) })
	rp, err := e.repos.Ensure(ctx, "repo")
	if err != nil {
		t.Fatal(err)
	}
	// two chunks holding data: the first is damaged, the second patched as usual
	var data []int64
	for i := int64(0); i < diskSize/chunkSize && len(data) < 2; i++ {
		if !bytes.Equal(content[i*chunkSize:(i+1)*chunkSize], make([]byte, chunkSize)) {
			data = append(data, i)
		}
	}
	if len(data) < 2 {
		t.Fatalf("the simulated disk has %d chunks holding data, want 2", len(data))
	}
	id := rp.ChunkID(content[data[0]*chunkSize : (data[0]+1)*chunkSize]).String()
	path := filepath.Join(e.cfg.Remotes[0].Path, "xbr-repo", "chunks", id[:2], id)
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stored[len(stored)/2] ^= 0xff
	if err := os.WriteFile(path, stored, 0o644); err != nil {
		t.Fatal(err)
	}
	for k, i := range data {
		e.guestWrite(disk, i*chunkSize+4096, 512, 20+k)
	}
	before := e.nbdRead()
	next := e.run()
	if want := int64(chunkSize + xapi.CBTBlockSize); next.Path != events.PathCBT || e.nbdRead()-before != want {
		t.Fatalf("run over a damaged base chunk: path %s (%s), nbd_read %d, want cbt and %d (the damaged chunk whole, one block)",
			next.Path, next.PathReason, e.nbdRead()-before, want)
	}
	if next.ChunksPatched != 1 || next.BaseChunksUnreadable != 1 {
		t.Errorf("chunks patched %d, base chunks unreadable %d; want 1 and 1", next.ChunksPatched, next.BaseChunksUnreadable)
	}
	e.assertPoint(next)
	if out := logs.String(); !strings.Contains(out, "its base chunk cannot be read") || !strings.Contains(out, id) {
		t.Errorf("no warning naming base chunk %s:\n%s", id, out)
	}
}

// TestBaseChunkNotFetchedIsNoDamage: when the remote fails to serve a base
// chunk (a reset, a timeout: injected, no real part fails on cue), the
// chunk is read whole from the host and the point is right, but nothing
// says the repository is damaged: no base_chunks_unreadable, no "verify
// --deep".
func TestBaseChunkNotFetchedIsNoDamage(t *testing.T) {
	logs := &testsupport.SyncBuffer{}
	var failing atomic.Bool
	e := newEnvKey(t, "nbd", "enable", false, "", func(d *incremental.Deps) {
		d.Log = slog.New(slog.NewTextHandler(logs, nil))
		rems := fn.NewRemotes(d.Config.Remotes, func(ctx context.Context, c config.Remote) (remote.Remote, error) {
			r, err := openRemote(ctx, c)
			return &resettingRemote{Remote: r, on: &failing}, err
		})
		d.Repos = fn.NewRepos(d.Config.Remotes, rems)
	})
	e.run()
	disk := e.liveDisks()[0]
	e.guestWrite(disk, 4096, 512, 40) // chunk 0, which holds data
	failing.Store(true)
	before := e.nbdRead()
	next := e.run()
	if next.Path != events.PathCBT || e.nbdRead()-before != chunkSize {
		t.Fatalf("run with the base chunk not served: path %s (%s), nbd_read %d, want cbt and the chunk whole",
			next.Path, next.PathReason, e.nbdRead()-before)
	}
	if next.ChunksPatched != 0 || next.BaseChunksUnreadable != 0 {
		t.Errorf("chunks patched %d, base chunks unreadable %d; want 0 and 0", next.ChunksPatched, next.BaseChunksUnreadable)
	}
	e.assertPoint(next)
	if out := logs.String(); !strings.Contains(out, "could not be fetched") || strings.Contains(out, "verify --deep") {
		t.Errorf("want a warning that the base chunk could not be fetched, and no call for verify --deep:\n%s", out)
	}
}

// resettingRemote fails every chunk read while on is set, as a remote whose
// connection resets.
type resettingRemote struct {
	remote.Remote
	on *atomic.Bool
}

func (r *resettingRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if r.on.Load() && strings.HasPrefix(key, repo.Root+"/chunks/") {
		return nil, errors.New("read: connection reset by peer")
	}
	return r.Remote.Open(ctx, key)
}
