package incremental_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/xapi"
)

// TestStoppedAfterCommit: an attempt that stops between its commit and
// its cleanup leaves the snapshot VM and its full disks; the next run
// finishes that cleanup instead of destroying the disks, so it still reads
// by changed blocks, and leaves one base per disk and no snapshot.
func TestStoppedAfterCommit(t *testing.T) {
	var crash atomic.Bool
	e := newEnvKey(t, "nbd", "enable", false, "", func(d *incremental.Deps) {
		incremental.SetAfterCommit(d, func() error {
			if crash.Load() {
				return errors.New("killed after the commit")
			}
			return nil
		})
	})
	e.run()
	crash.Store(true)
	e.guestWrite(e.liveDisks()[0], 0, 4096, 3)
	if _, done := e.fire(); done.Status != events.StatusFailure {
		t.Fatalf("the stopped run: %+v", done)
	}
	if n := len(e.sim.Snapshots()); n != 1 {
		t.Fatalf("%d snapshot VMs after the stop, want the one left", n)
	}
	crash.Store(false)
	e.guestWrite(e.liveDisks()[1], 0, 4096, 4)
	before := e.nbdRead()
	next := e.run()
	if next.Path != events.PathCBT || e.nbdRead()-before != xapi.CBTBlockSize {
		t.Fatalf("run after the stop: path %s (%s), nbd_read %d, want cbt and one changed block", next.Path, next.PathReason, e.nbdRead()-before)
	}
	e.assertPoint(next)
	e.assertBases(2)
}
