package export_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/bus"
	"xbr/shared/xapi/xapisim"
)

// TestTwoJobsSameSecondOnS3: two jobs back up the same VM to the same S3
// remote and both start in the same second (two crons firing at 02:00). S3
// has no VM-folder lock, and stamp's "taken" check only sees committed
// files, so both pick the same timestamp and write the same keys: one job's
// backup silently replaces the other's while both report completed.
func TestTwoJobsSameSecondOnS3(t *testing.T) {
	e := newEnv(t, 1, `  - name: nightly
    pools: [lab]
    remotes: [gateway]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
  - name: offsite
    pools: [lab]
    remotes: [gateway]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`, true)
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	e.deps.Now = func() time.Time { return at }         // both workers read the clock in the same second
	e.sim.SetFaults(xapisim.Faults{RateLimit: 2 << 20}) // each export streams for ~2 s
	var reqs []events.ExportRequested
	for _, job := range []string{"nightly", "offsite"} {
		r := startRun(t, e, job, "run-"+job)
		r.Remotes = []string{"gateway"}
		reqs = append(reqs, r)
	}
	outs := make([][]bus.Out, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			outs[i], errs[i] = export.NewWorker(e.deps).Handle(context.Background(), requested(t, r, 1))
		})
	}
	wg.Wait()
	for i := range reqs {
		if errs[i] != nil || len(outs[i]) != 1 || outs[i][0].Event.Type() != string(events.TypeExportCompleted) {
			t.Fatalf("job %s: %v %+v", reqs[i].Job, errs[i], outs[i])
		}
	}
	bs := list(t, e.remotes["gateway"])
	for _, b := range bs {
		e.assertBackup(e.remotes["gateway"], b, b.Job, "daily", "gzip")
	}
	if len(bs) != 2 {
		t.Fatalf("both jobs reported a completed backup, but the remote lists %d: %+v", len(bs), bs)
	}
}
