package runs_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/runs"
)

// TestTakeoverRepublishesTheInterruptedRun: a fire takes a stale lock over
// and its events (the interrupted run's run.completed among them) are lost
// before they are published; its redelivery returns that run.completed
// again, with the same id.
func TestTakeoverRepublishesTheInterruptedRun(t *testing.T) {
	tf := newFlow(t)
	clk := &clock{t: flowFire}
	tf.Runs = coordinator(t, server(t), clk)
	ctx := context.Background()
	p := runs.NewPlanner(tf.Flow)
	if _, err := p.Handle(ctx, deliver(t, due("nightly", "r1"), 1)); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	first, err := p.Handle(ctx, deliver(t, due("nightly", "r2"), 1))
	want := []string{"run.completed", "run.started", "export.requested:0"}
	if err != nil || !reflect.DeepEqual(kinds(first), want) {
		t.Fatalf("takeover: %v %v, want %v", kinds(first), err, want)
	}
	again, err := p.Handle(ctx, deliver(t, due("nightly", "r2"), 2))
	if err != nil || !reflect.DeepEqual(ids(again), ids(first)) {
		t.Fatalf("redelivered takeover: %v %v, want the same events %v", kinds(again), err, kinds(first))
	}
}

// TestTakeoverCrashBeforeInterrupt: a planner takes a stale lock over and
// dies before it interrupts the old run. The fire's redelivery interrupts
// it and publishes its run.completed; the old run's late result is ignored.
func TestTakeoverCrashBeforeInterrupt(t *testing.T) {
	tf := newFlow(t)
	clk := &clock{t: flowFire}
	tf.Runs = coordinator(t, server(t), clk)
	ctx := context.Background()
	p := runs.NewPlanner(tf.Flow)
	if _, err := p.Handle(ctx, deliver(t, due("nightly", "r1"), 1)); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	f := runs.Fire{RunID: "r2", Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: flowFire, Delivery: 1}
	if err := tf.Runs.TakeOverOnly(ctx, f); err != nil {
		t.Fatal(err)
	}
	outs, err := p.Handle(ctx, deliver(t, due("nightly", "r2"), 2))
	want := []string{"run.completed", "run.started", "export.requested:0"}
	if err != nil || !reflect.DeepEqual(kinds(outs), want) {
		t.Fatalf("redelivered fire: %v %v, want %v", kinds(outs), err, want)
	}
	r1, err := tf.Runs.Get(ctx, "r1")
	if err != nil || r1.Status != events.StatusInterrupted {
		t.Fatalf("r1 %+v %v, want interrupted", r1, err)
	}
	if s, err := tf.Runs.Finish(ctx, "r1", ok(vms(2)[0].UUID)); err != nil || !s.Late || len(s.Released) != 0 {
		t.Errorf("r1's result after the takeover: %+v %v, want late, releasing nothing", s, err)
	}
}
