package repo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

// hangingRemote holds the first chunk removal until release is closed, and, once that
// removal has started, fails every write of a sweep marker (the marker's refresh fails
// as the remote stalls): the marker goes stale while the sweep is blocked.
type hangingRemote struct {
	remote.Remote
	mu               sync.Mutex
	n                int
	hanging, release chan struct{}
}

func (h *hangingRemote) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, chunksPrefix) {
		h.mu.Lock()
		h.n++
		first := h.n == 1
		h.mu.Unlock()
		if first {
			close(h.hanging)
			<-h.release
		}
	}
	return h.Remote.Delete(ctx, key)
}

func (h *hangingRemote) Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error) {
	h.mu.Lock()
	stalled := h.n > 0
	h.mu.Unlock()
	if stalled && strings.HasPrefix(key, sweepPrefix) {
		return nil, errors.New("injected: marker refresh failed")
	}
	return h.Remote.Create(ctx, key, sizeHint)
}

// A removal that waits for a free slot checks the sweep marker once it has the slot: when
// the marker went stale meanwhile (the remote stalled, its refreshes failed), a backup may
// have started and re-used the chunk, so the sweep stops instead of removing it.
func TestSweepChecksMarkerBeforeEachRemoval(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingRemote{Remote: d, hanging: make(chan struct{}), release: make(chan struct{})}
	const stale = 400 * time.Millisecond
	rp, err := Init(ctx, h, InitOptions{ChunkSize: MinChunkSize}, WithConcurrency(1), WithStaleAfter(stale),
		WithPoll(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var a, b ChunkID // unreferenced, in one shard: b's removal waits behind a's
	a[1], b[1] = 1, 2
	for _, id := range []ChunkID{a, b} {
		if err := remote.Put(ctx, d, chunkKey(id), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		_, err := rp.GC(ctx, GCOptions{Grace: -1})
		done <- err
	}()
	<-h.hanging
	time.Sleep(stale + 200*time.Millisecond) // the marker is stale now
	bk, err := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bk.Abort(ctx) }()
	if _, err := bk.chunks.Stat(ctx, chunkKey(b)); err != nil { // the backup re-uses b
		t.Fatal(err)
	}
	close(h.release)
	gcErr := <-done
	if _, err := d.Stat(ctx, chunkKey(b)); err != nil {
		t.Fatalf("a chunk a running backup re-uses was swept (gc: %v): %v", gcErr, err)
	}
	if gcErr == nil {
		t.Fatal("gc succeeded though its marker lapsed while it swept")
	}
}
