package metrics_test

import (
	"testing"

	"xbr/events"
	"xbr/shared/metrics"
)

// TestGCFailureIsCounted: a GC at the end of an incremental run that fails
// (a damaged manifest stops every GC of the repository until retention
// deletes it) leaves the run a success; xbr_failures_total is the only
// documented failure counter outside runs, and it must count it, or a
// repository that is never collected raises no alert.
func TestGCFailureIsCounted(t *testing.T) {
	m := metrics.New(nil)
	m.Apply(received(t, events.GCFailed{RunID: runID, Job: "incr", Schedule: "nightly", Remote: "repo",
		Error: "gc mark: restore point x: damaged"}))
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "xbr_failures_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == "gc" && mt.GetCounter().GetValue() == 1 {
					return
				}
			}
		}
	}
	t.Fatal("xbr.gc.failed is not counted in xbr_failures_total{kind=\"gc\"} (nor in any metric but xbr_events_total)")
}
