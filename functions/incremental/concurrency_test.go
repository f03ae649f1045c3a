package incremental_test

import (
	"testing"

	"xbr/events"
)

// TestConcurrency: a run of four VMs with concurrency 2 never has more
// than two VMs in flight, and every VM gets its point.
func TestConcurrency(t *testing.T) {
	e := newEnvJob(t, "nbd", "enable", false, "", 4, "    concurrency: 2\n")
	_, done := e.fire()
	if done.Status != events.StatusSuccess || len(done.Results) != 4 {
		t.Fatalf("run: %+v", done)
	}
	inFlight, peak, completed := map[string]bool{}, 0, 0
	for _, r := range e.stored() {
		switch p := r.Payload.(type) {
		case events.IncrementalStarted:
			inFlight[p.VMUUID] = true
		case events.IncrementalCompleted:
			delete(inFlight, p.VMUUID)
			completed++
			if p.Path != events.PathFullScan || p.PathReason != events.PathReasonFirstRun {
				t.Errorf("VM %s: path %s (%s)", p.VMUUID, p.Path, p.PathReason)
			}
		case events.IncrementalFailed:
			delete(inFlight, p.VMUUID)
		}
		peak = max(peak, len(inFlight))
	}
	if peak > 2 || peak == 0 || completed != 4 {
		t.Errorf("%d VMs in flight at once (limit 2), %d completed", peak, completed)
	}
	e.assertBases(8)
}
