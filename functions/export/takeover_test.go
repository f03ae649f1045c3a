package export_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestExportTakenOverStops: the worker's host is suspended for 40 minutes
// while it streams a VM's export; as it resumes, the job's next fire takes
// the stale lock over and starts its own export of the job. The old run's
// export must stop at its next renewal, commit no backup beside the new
// run's, leave nothing behind, and say it failed and why.
func TestExportTakenOverStops(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "none", "none", 0), false)
	clk := testsupport.NewStepClock(fireAt)
	coord, err := runs.New(ctx, e.conn, runs.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.coord, e.deps.Runs, e.deps.Now = coord, coord, clk.Now
	e.sim.SetFaults(xapisim.Faults{RateLimit: 1 << 20}) // 4 MiB of disks: 4 s of export
	e.start()
	run := e.fire("nightly", "daily", fireAt)
	testsupport.Eventually(t, 30*time.Second, "the export to stream", func() bool { // its first export.progress
		st, err := e.conn.JetStream().Stream(ctx, events.DefaultProgressStream)
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs > 0
	})
	clk.Add(40 * time.Minute)
	adm, err := coord.Admit(ctx, runs.Fire{RunID: "next-fire", Job: "nightly", Schedule: "daily", Mode: events.ModeFull,
		FireTime: clk.Now(), Delivery: 1})
	if err != nil || adm.Interrupted == nil || adm.Interrupted.ID != run {
		t.Fatalf("the next fire after a 40-minute suspend: %+v %v; want run %s taken over", adm, err, run)
	}
	testsupport.Eventually(t, 60*time.Second, "the VM's export to end", func() bool {
		return len(payloadsOf[events.ExportCompleted](e))+len(payloadsOf[events.ExportFailed](e)) > 0
	})
	failed := payloadsOf[events.ExportFailed](e)
	if done := payloadsOf[events.ExportCompleted](e); len(done) != 0 || len(failed) != 1 || !strings.Contains(failed[0].Error, "taken over") {
		t.Fatalf("the run taken over reported completed %+v, failed %+v; want it failed, saying its lock was taken over", done, failed)
	}
	if bs := list(t, e.remotes["local"]); len(bs) != 0 {
		t.Fatalf("the run taken over committed %d backups; want none", len(bs))
	}
	e.assertNoSnapshots() // it stopped as a timed-out attempt does: nothing left behind
	assertNoTemp(t, e.remotes["local"])
}
