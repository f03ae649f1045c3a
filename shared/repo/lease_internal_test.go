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

// vanishingRemote makes the second write of any key under prefix fail after removing the
// object, as the dir remote's Commit does when the folder fsync after its rename fails.
type vanishingRemote struct {
	remote.Remote
	prefix string
	mu     sync.Mutex
	writes int
}

type vanishingUpload struct {
	remote.Upload
	r   *vanishingRemote
	key string
}

func (v *vanishingRemote) Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error) {
	u, err := v.Remote.Create(ctx, key, sizeHint)
	if err != nil || !strings.HasPrefix(key, v.prefix) {
		return u, err
	}
	return &vanishingUpload{Upload: u, r: v, key: key}, nil
}

func (u *vanishingUpload) Commit(ctx context.Context) error {
	if err := u.Upload.Commit(ctx); err != nil {
		return err
	}
	u.r.mu.Lock()
	u.r.writes++
	second := u.r.writes == 2
	u.r.mu.Unlock()
	if !second {
		return nil
	}
	return errors.Join(errors.New("injected: folder fsync failed"), u.r.Remote.Delete(ctx, u.key))
}

// A refresh that failed may have left no lease at all (the dir remote removes an object
// whose rename it cannot make durable): from then on others may act as if the holder were
// gone, so the holder stops relying on its lease at once.
func TestLeaseGoneAfterFailedRefresh(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := &vanishingRemote{Remote: d, prefix: sessionsPrefix}
	const stale = time.Second // refreshed every 200 ms
	rp, err := Init(ctx, v, InitOptions{ChunkSize: MinChunkSize}, WithStaleAfter(stale), WithPoll(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	l, err := rp.beginSession(ctx, sessionsPrefix, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.release(ctx) }()
	time.Sleep(stale/5 + 150*time.Millisecond) // the first refresh failed and took the lease away
	if live, err := rp.liveUnder(ctx, sessionsPrefix, time.Now(), ""); err != nil || len(live) != 0 {
		t.Fatalf("leases on the remote: %v, %v; want none (the injected failure removed it)", live, err)
	}
	if err := l.fresh(); err == nil {
		t.Fatal("the lease is gone from the remote, yet its holder still relies on it")
	}
}
