package incremental_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/bus"
	"xbr/shared/runs"
)

// TestRedeliveredRequest: the same incremental.requested handled twice
// yields one restore point and the same completed event, with its path.
func TestRedeliveredRequest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "nbd", "enable", false)
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	f := runs.Fire{RunID: "run-1", Job: "incr", Schedule: "nightly", Mode: events.ModeIncremental, FireTime: at}
	if a, err := e.deps.Runs.Admit(ctx, f); err != nil || a.Run != nil {
		t.Fatalf("Admit: %v %+v", err, a)
	}
	vm := e.vm()
	if _, err := e.deps.Runs.Start(ctx, f, 1, []runs.VM{{UUID: vm.UUID, Name: vm.NameLabel, Pool: "lab"}}); err != nil {
		t.Fatal(err)
	}
	req := events.IncrementalRequested{RunID: "run-1", Job: "incr", Schedule: "nightly", FireTime: at, VMUUID: vm.UUID,
		VMName: vm.NameLabel, Pool: "lab", Remote: "repo", CBT: events.CBTEnable}
	w := incremental.NewWorker(e.deps)
	var got []events.IncrementalCompleted
	for attempt := uint64(1); attempt <= 2; attempt++ {
		m, err := events.Subjects{}.Message(events.Meta{ID: "req-1", Source: "/test", Time: time.Now()}, req)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := w.Handle(ctx, bus.Event{Received: events.Received{Message: m, Payload: req}, Delivery: bus.Delivery{Attempt: attempt}})
		if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeIncrementalCompleted) {
			t.Fatalf("delivery %d: %v %+v", attempt, err, outs)
		}
		var c events.IncrementalCompleted
		if err := json.Unmarshal(outs[0].Event.Data(), &c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if got[0].Backups[0] != got[1].Backups[0] || got[1].Path != events.PathFullScan || got[1].PathReason != events.PathReasonFirstRun {
		t.Fatalf("redelivery reported %+v, first %+v", got[1], got[0])
	}
	rp, err := e.repos.Ensure(ctx, "repo")
	if err != nil {
		t.Fatal(err)
	}
	if points, err := rp.List(ctx, vm.UUID); err != nil || len(points) != 1 {
		t.Fatalf("points after a redelivery: %v %v", points, err)
	}
	e.assertBases(2)
}
