package export_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/remote"
)

// lostJSONAnswer reports a failure for the first backup .json written once
// armed, after writing it (an injected fault: the remote's answer is lost),
// and then fails the first removal (the failed attempt's cleanup).
type lostJSONAnswer struct {
	remote.Remote
	armed, noDelete atomic.Bool
}

// Delete fails once noDelete is set: the failed attempt cannot clean up.
func (l *lostJSONAnswer) Delete(ctx context.Context, key string) error {
	if l.noDelete.CompareAndSwap(true, false) {
		return errors.New("injected: delete failed")
	}
	return l.Remote.Delete(ctx, key)
}

type lostJSONUpload struct {
	remote.Upload
	r *lostJSONAnswer
}

func (l *lostJSONAnswer) Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error) {
	u, err := l.Remote.Create(ctx, key, sizeHint)
	if err != nil || !strings.HasPrefix(key, "xo-vm-backups/") || !strings.HasSuffix(key, ".json") {
		return u, err
	}
	return lostJSONUpload{Upload: u, r: l}, nil
}

func (u lostJSONUpload) Commit(ctx context.Context) error {
	if err := u.Upload.Commit(ctx); err != nil {
		return err
	}
	if u.r.armed.CompareAndSwap(true, false) {
		u.r.noDelete.Store(true)
		return errors.New("injected: connection reset after the backup's .json was written")
	}
	return nil
}

// TestRetryAfterLostCommitAnswer: the first attempt's backup is written
// whole but its last write reports a failure, and removing it fails too; the
// retry, in the same process, knows that attempt's time from the run, finds
// its backup and ends with that one backup of the VM, not two.
func TestRetryAfterLostCommitAnswer(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "none", "none", 1), false)
	lost := &lostJSONAnswer{Remote: e.remotes["local"]}
	lost.armed.Store(true)
	e.remotes["local"] = lost
	e.deps.Wait = func(context.Context, time.Duration) error { return nil }
	e.start()
	run := e.fire("nightly", "daily", fireAt)
	if done := e.runCompleted(run); done.Status != events.StatusSuccess {
		t.Fatalf("run.completed: %+v", done)
	}
	if lost.armed.Load() {
		t.Fatal("the injected fault did not fire")
	}
	if bs := list(t, lost.Remote); len(bs) != 1 {
		t.Fatalf("%d backups of the VM after the retry, want 1: %+v", len(bs), bs)
	}
}
