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
	"xbr/shared/runs"
	"xbr/shared/testsupport"
)

// TestWaitingForXOLockKeepsTheRun: an export waits, as designed, while Xen
// Orchestra holds the VM folder's lock (XO's backup of the same VM). The
// wait renews nothing, so once it is longer than StaleAfter (30 min by
// default; 2 s here) the job's next fire takes the run over as stale and
// ends it "interrupted", although its worker is alive and only waiting.
func TestWaitingForXOLockKeepsTheRun(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	ctx := context.Background()
	coord, err := runs.New(ctx, e.conn, runs.Options{StaleAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.coord, e.deps.Runs = coord, coord
	req := startRun(t, e, "nightly", "run-wait")
	lock := filepath.Join(e.remotes["local"].(*dir.Dir).Root(), "xo-vm-backups", req.VMUUID+".lock")
	if err := os.MkdirAll(lock, 0o755); err != nil {
		t.Fatal(err)
	}
	xoDone := make(chan struct{})
	go func() { // XO keeps its lock fresh, as proper-lockfile does
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-xoDone:
				_ = os.Remove(lock)
				return
			case now := <-tick.C:
				_ = os.Chtimes(lock, now, now)
			}
		}
	}()
	handled := make(chan error, 1)
	go func() {
		outs, err := export.NewWorker(e.deps).Handle(ctx, requested(t, req, 1))
		if err == nil && (len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportCompleted)) {
			err = fmt.Errorf("follow-ups %+v", outs)
		}
		handled <- err
	}()
	time.Sleep(3 * time.Second) // longer than StaleAfter, all spent waiting for XO
	adm, err := coord.Admit(ctx, runs.Fire{RunID: "run-next", Job: "nightly", Schedule: "daily",
		Mode: events.ModeFull, FireTime: fireAt.Add(time.Hour), Delivery: 1})
	close(xoDone)
	if err != nil {
		t.Fatal(err)
	}
	if adm.Interrupted != nil {
		t.Errorf("the run whose worker waits for XO's lock was taken over as stale: %s %q",
			adm.Interrupted.Status, adm.Interrupted.Reason)
	}
	testsupport.Eventually(t, 30*time.Second, "the export to end", func() bool {
		select {
		case err := <-handled:
			if err != nil {
				t.Logf("export after XO released its lock: %v", err)
			}
			return true
		default:
			return false
		}
	})
}
