package incremental_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/remote"
)

// failLeaseDelete fails the first removal of a backup's lease once armed (an
// injected fault: the remote fails right after the manifest was written).
type failLeaseDelete struct {
	remote.Remote
	armed *atomic.Bool
}

func (f failLeaseDelete) Delete(ctx context.Context, key string) error {
	if strings.Contains(key, "/sessions/") && f.armed.CompareAndSwap(true, false) {
		return errors.New("injected: lease delete failed")
	}
	return f.Remote.Delete(ctx, key)
}

// lostManifestAnswer reports a failure for the first manifest written once
// armed, after writing it (an injected fault: the remote's answer is lost).
type lostManifestAnswer struct {
	remote.Remote
	armed *atomic.Bool
}

type lostAnswer struct {
	remote.Upload
	armed *atomic.Bool
}

func (l lostManifestAnswer) Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error) {
	u, err := l.Remote.Create(ctx, key, sizeHint)
	if err != nil || !strings.Contains(key, "/vms/") {
		return u, err
	}
	return lostAnswer{Upload: u, armed: l.armed}, nil
}

func (u lostAnswer) Commit(ctx context.Context) error {
	if err := u.Upload.Commit(ctx); err != nil {
		return err
	}
	if u.armed.CompareAndSwap(true, false) {
		return errors.New("injected: connection reset after the manifest was written")
	}
	return nil
}

// TestCommitErrorAfterManifestKeepsBase: a failure once the manifest is
// written (releasing the backup's lease fails; the answer to the manifest's
// write is lost) does not undo a committed point. The run reports that one
// point, by changed blocks (the retry finds it); its snapshot, the next
// run's base, stays, so the next run reads by changed blocks too.
func TestCommitErrorAfterManifestKeepsBase(t *testing.T) {
	for _, c := range []struct {
		name string
		wrap func(remote.Remote, *atomic.Bool) remote.Remote
	}{
		{"lease", func(r remote.Remote, a *atomic.Bool) remote.Remote { return failLeaseDelete{Remote: r, armed: a} }},
		{"manifest", func(r remote.Remote, a *atomic.Bool) remote.Remote { return lostManifestAnswer{Remote: r, armed: a} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var armed atomic.Bool
			wrapRemote = func(r remote.Remote) remote.Remote { return c.wrap(r, &armed) }
			t.Cleanup(func() { wrapRemote = nil })
			e := newEnvJob(t, "nbd", "enable", false, "", 1, "    retries: 2\n    retry_backoff: 1s\n",
				func(d *incremental.Deps) { d.Wait = func(context.Context, time.Duration) error { return nil } })
			e.run()
			disk := e.liveDisks()[0]
			e.guestWrite(disk, 4096, 512, 7)
			armed.Store(true)
			second := e.run()
			if armed.Load() {
				t.Fatal("the injected fault did not fire")
			}
			e.assertPoint(second)
			rp, err := e.repos.Ensure(context.Background(), "repo")
			if err != nil {
				t.Fatal(err)
			}
			points, err := rp.List(context.Background(), "")
			if err != nil || len(points) != 2 || second.Path != events.PathCBT {
				t.Fatalf("after 2 runs: %d points (%v), second run path %s (%s); want 2 points, the second by cbt",
					len(points), err, second.Path, second.PathReason)
			}
			e.guestWrite(disk, 1<<20, 512, 8)
			if third := e.run(); third.Path != events.PathCBT {
				t.Fatalf("third run: path %s (%s), want cbt: the second point's base was destroyed", third.Path, third.PathReason)
			}
		})
	}
}
