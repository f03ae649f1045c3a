package incremental_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/remote"
)

// TestRetryAfterCommitCleansSnapshot: an attempt stopped between its commit
// and its cleanup (a SIGKILL, or a commit whose answer was lost) is retried;
// the retry finds the committed point and reports it, but must also finish
// that point's cleanup: otherwise the full snapshot VM and its disks stay on
// the production SR until the job's next run (forever if the VM leaves the job).
func TestRetryAfterCommitCleansSnapshot(t *testing.T) {
	var crash atomic.Bool
	e := newEnvJob(t, "nbd", "enable", false, "", 1, "    retries: 1\n    retry_backoff: 1s\n", func(d *incremental.Deps) {
		d.Wait = func(context.Context, time.Duration) error { return nil }
		incremental.SetAfterCommit(d, func() error {
			if crash.CompareAndSwap(true, false) {
				return errors.New("killed after the commit")
			}
			return nil
		})
	})
	e.run()
	e.guestWrite(e.liveDisks()[0], 0, 4096, 3)
	crash.Store(true)
	second := e.run()
	if crash.Load() || second.Path != events.PathCBT {
		t.Fatalf("fault fired: %v; second run path %s (%s)", !crash.Load(), second.Path, second.PathReason)
	}
	e.assertBases(2) // one cbt_metadata base per disk, no snapshot VM, no snapshot disk with data
}

// TestLostCommitAnswerWithoutRetries: with the job's default retries (0), a
// commit whose answer is lost after the manifest was written ends the VM as
// incremental.failed ("nothing was committed, the new snapshot was removed"),
// while the restore point is committed and listed and its full snapshot
// stays on the SR: the event and history contradict the repository.
func TestLostCommitAnswerWithoutRetries(t *testing.T) {
	var armed atomic.Bool
	wrapRemote = func(r remote.Remote) remote.Remote { return lostManifestAnswer{Remote: r, armed: &armed} }
	t.Cleanup(func() { wrapRemote = nil })
	e := newEnv(t, "nbd", "enable", false)
	e.run()
	e.guestWrite(e.liveDisks()[0], 4096, 512, 7)
	armed.Store(true)
	_, done := e.fire()
	if armed.Load() {
		t.Fatal("the injected fault did not fire")
	}
	rp, err := e.repos.Ensure(context.Background(), "repo")
	if err != nil {
		t.Fatal(err)
	}
	points, err := rp.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != events.StatusSuccess {
		t.Errorf("run status %s (%+v) while its restore point is committed (%d points listed)", done.Status, done.Results, len(points))
	}
	e.assertBases(2)
}
