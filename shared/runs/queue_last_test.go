package runs_test

import (
	"context"
	"errors"
	"testing"

	"xbr/events"
	"xbr/shared/runs"
)

// TestQueuedFireLastDeliveryHasOutcome: a fire queued behind a running
// run (on_overlap: queue) that reaches its planner consumer's last delivery
// (PlannerMaxDeliver) while the job is still held gets a BusyError, which
// GivesUp never gives up; the bus then dead-letters the fire (settle:
// d.Last()) with no run recorded and no run.completed: the fire vanishes
// without an outcome.
func TestQueuedFireLastDeliveryHasOutcome(t *testing.T) {
	tf := newFlow(t)
	tf.Config.Jobs[0].OnOverlap = runs.OverlapQueue
	ctx := context.Background()
	planner := runs.NewPlanner(tf.Flow)
	if _, err := planner.Handle(ctx, deliver(t, due("nightly", "r1"), 1)); err != nil {
		t.Fatal(err)
	}
	ev := deliver(t, due("nightly", "r2"), runs.PlannerMaxDeliver)
	ev.Delivery.Max = runs.PlannerMaxDeliver
	outs, err := planner.Handle(ctx, ev)
	var busy *runs.BusyError
	if errors.As(err, &busy) {
		_, gerr := tf.Runs.Get(ctx, "r2")
		t.Fatalf("last delivery of a queued fire: outs %v, err %v (the bus dead-letters it); run r2 recorded: %v — want an outcome (run.completed) for r2",
			kinds(outs), err, gerr)
	}
	r, gerr := tf.Runs.Get(ctx, "r2")
	if err != nil || gerr != nil || r.Status != events.StatusSkipped || len(outs) == 0 {
		t.Fatalf("last delivery of a queued fire: outs %v, err %v; run r2 %+v, %v: want it skipped, with its run.completed", kinds(outs), err, r, gerr)
	}
}
