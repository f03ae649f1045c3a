package export_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestExportGoesOnAfterLosingXOLock: while xbr streams, its VM-folder lock
// is taken over by Xen Orchestra (xbr's refresh came more than 10 s late,
// an NFS stall say, so XO's proper-lockfile judged it stale, removed it and
// made its own). From then on XO owns the folder: its backup and its
// cleanVm (which deletes every root file it cannot claim, such as an .xva
// whose .json is not written yet) run there. xbr only notices at unlock,
// logs a warning, and meanwhile commits its .xva, .checksum and .json into
// the folder XO holds, and reports the backup completed.
func TestExportGoesOnAfterLosingXOLock(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	req := startRun(t, e, "nightly", "run-lost")
	root := e.remotes["local"].(*dir.Dir).Root()
	lock := filepath.Join(root, "xo-vm-backups", req.VMUUID+".lock")
	e.sim.SetFaults(xapisim.Faults{RateLimit: 2 << 20}) // the transfer lasts ~2 s
	type result struct {
		typ string
		err error
	}
	done := make(chan result, 1)
	go func() {
		outs, err := export.NewWorker(e.deps).Handle(context.Background(), requested(t, req, 1))
		r := result{err: err}
		if len(outs) == 1 {
			r.typ = outs[0].Event.Type()
		}
		done <- r
	}()
	testsupport.Eventually(t, 30*time.Second, "the transfer to start", func() bool { return e.sim.Requests()["/export"] > 0 })
	// XO takes the lock over: removes xbr's lock folder and makes its own, kept fresh.
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(lock, 0o755); err != nil {
		t.Fatal(err)
	}
	xoDone := make(chan struct{})
	defer close(xoDone)
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-xoDone:
				return
			case now := <-tick.C:
				_ = os.Chtimes(lock, now, now)
			}
		}
	}()
	var r result
	testsupport.Eventually(t, 60*time.Second, "the export to end", func() bool {
		select {
		case r = <-done:
			return true
		default:
			return false
		}
	})
	entries, _ := os.ReadDir(filepath.Join(root, "xo-vm-backups", req.VMUUID))
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	if r.typ == string(events.TypeExportCompleted) || len(names) > 0 {
		t.Fatalf("after XO took the VM folder's lock over, the export went on: %s (%v), files written in XO's locked folder: %v",
			r.typ, r.err, names)
	}
}
