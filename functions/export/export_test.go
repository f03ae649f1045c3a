package export_test

import (
	"testing"
	"time"

	"xbr/events"
)

var fireAt = time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)

// TestFullRun backs up three VMs to a directory and an S3 remote at once.
func TestFullRun(t *testing.T) {
	e := newEnv(t, 3, `  - name: nightly
    pools: [lab]
    remotes: [local, gateway]
    concurrency: 2
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`, true)
	e.start()
	run := e.fire("nightly", "daily", fireAt)
	done := e.runCompleted(run)
	if done.Status != events.StatusSuccess || len(done.Results) != 3 {
		t.Fatalf("run.completed: %+v", done)
	}
	for _, name := range []string{"local", "gateway"} {
		r := e.remotes[name]
		bs := list(t, r)
		if len(bs) != 3 {
			t.Fatalf("%s holds %d backups, want 3: %+v", name, len(bs), bs)
		}
		for _, b := range bs {
			e.assertBackup(r, b, "nightly", "daily", "gzip")
		}
		assertNoTemp(t, r)
	}
	e.assertNoSnapshots()
	assertConcurrency(t, e, 2)
	if started := payloadsOf[events.RunStarted](e); len(started) != 1 || len(started[0].VMs) != 3 {
		t.Errorf("run.started: %+v", started)
	}
	for _, c := range payloadsOf[events.ExportCompleted](e) {
		if len(c.Backups) != 2 || c.SHA256 == "" || c.Size <= 0 || c.BytesRead <= c.Size {
			t.Errorf("export.completed: %+v", c)
		}
	}
}

// assertConcurrency replays the stream: between an export.started and the
// VM's completion the VM is in flight; never more than limit at once.
func assertConcurrency(t *testing.T, e *env, limit int) {
	t.Helper()
	inFlight, peak := map[string]bool{}, 0
	for _, r := range e.stored() {
		switch p := r.Payload.(type) {
		case events.ExportStarted:
			inFlight[p.VMUUID] = true
		case events.ExportCompleted:
			delete(inFlight, p.VMUUID)
		case events.ExportFailed:
			delete(inFlight, p.VMUUID)
		}
		peak = max(peak, len(inFlight))
	}
	if peak > limit || peak == 0 {
		t.Errorf("%d exports in flight at once, limit %d", peak, limit)
	}
}
