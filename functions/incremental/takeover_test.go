package incremental_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/bus"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
)

// TestIncrementalTakenOverStops: the worker's host is suspended for 40
// minutes while it reads a VM's disks (8 MiB at rate_limit 2 MiB/s); as it
// resumes, the job's next fire takes the stale lock over and starts its own
// backup of the job. The old run must stop at its next renewal, commit no
// restore point beside the new run's, and say it failed and why.
func TestIncrementalTakenOverStops(t *testing.T) {
	ctx := context.Background()
	fire := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	clk := testsupport.NewStepClock(fire)
	var coord *runs.Coordinator
	e := newEnvJob(t, "nbd", "enable", false, "", 1, "    rate_limit: 2MiB\n", func(d *incremental.Deps) {
		var err error
		if coord, err = runs.New(ctx, d.Publisher.(*bus.Conn), runs.Options{Now: clk.Now}); err != nil {
			t.Fatal(err)
		}
		d.Runs, d.Now = coord, clk.Now
	})
	id := events.DeriveID("schedule.due", "incr", "nightly", fire.Format(time.RFC3339))
	e.publish(id, events.ScheduleDue{RunID: id, Job: "incr", Schedule: "nightly", Mode: events.ModeIncremental, FireTime: fire})
	testsupport.Eventually(t, 30*time.Second, "the disks to be read", func() bool { // the first incremental.progress
		st, err := e.conn.JetStream().Stream(ctx, events.DefaultProgressStream)
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs > 0
	})
	clk.Add(40 * time.Minute)
	adm, err := coord.Admit(ctx, runs.Fire{RunID: "next-fire", Job: "incr", Schedule: "nightly", Mode: events.ModeIncremental,
		FireTime: clk.Now(), Delivery: 1})
	if err != nil || adm.Interrupted == nil || adm.Interrupted.ID != id {
		t.Fatalf("the next fire after a 40-minute suspend: %+v %v; want run %s taken over", adm, err, id)
	}
	var done []events.IncrementalCompleted
	var failed []events.IncrementalFailed
	testsupport.Eventually(t, 60*time.Second, "the VM's backup to end", func() bool {
		done, failed = nil, nil
		for _, r := range e.stored() {
			switch p := r.Payload.(type) {
			case events.IncrementalCompleted:
				done = append(done, p)
			case events.IncrementalFailed:
				failed = append(failed, p)
			}
		}
		return len(done)+len(failed) > 0
	})
	if len(done) != 0 || len(failed) != 1 || !strings.Contains(failed[0].Error, "taken over") {
		t.Fatalf("the run taken over reported completed %+v, failed %+v; want it failed, saying its lock was taken over", done, failed)
	}
	rp, err := e.repos.Ensure(ctx, "repo")
	if err != nil {
		t.Fatal(err)
	}
	if points, err := rp.List(ctx, ""); err != nil || len(points) != 0 {
		t.Fatalf("points after the run taken over: %v, %v; want none", points, err)
	}
}
