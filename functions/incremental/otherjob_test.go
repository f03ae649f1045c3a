package incremental_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/bus"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/runs"
	"xbr/shared/xva"
)

// TestOtherJobsPointIsNotThisRuns: a point at the time one of this run's
// attempts chose, written by another job holding the VM (which won that
// second: the repository refuses the second writer of a point), is not
// reported as this run's; the attempt writes its own.
func TestOtherJobsPointIsNotThisRuns(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "nbd", "enable", false)
	first := e.run()
	rp, err := e.repos.Ensure(ctx, "repo")
	if err != nil {
		t.Fatal(err)
	}
	vm := e.vm()
	points, err := rp.List(ctx, vm.UUID)
	if err != nil || len(points) != 1 {
		t.Fatalf("points after %s: %v %v", first.Backups[0].BackupID, points, err)
	}
	m, err := rp.Manifest(ctx, points[0].Point)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := xva.DecodeRepoRecords(m.Records)
	if err != nil {
		t.Fatal(err)
	}
	recs.Job, recs.JobID, recs.Schedule, recs.ScheduleID = "other", "other-job-id", "daily", "other-schedule-id"
	other, err := recs.Encode()
	if err != nil {
		t.Fatal(err)
	}

	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	f := runs.Fire{RunID: "run-1", Job: "incr", Schedule: "nightly", Mode: events.ModeIncremental, FireTime: at}
	if a, err := e.deps.Runs.Admit(ctx, f); err != nil || a.Run != nil {
		t.Fatalf("Admit: %v %+v", err, a)
	}
	if _, err := e.deps.Runs.Start(ctx, f, 1, []runs.VM{{UUID: vm.UUID, Name: vm.NameLabel, Pool: "lab"}}); err != nil {
		t.Fatal(err)
	}
	// An attempt of run-1 chose ts and failed; the other job committed its point at ts.
	ts := points[0].Time.Add(time.Hour)
	if _, err := e.deps.Runs.RecordAttempt(ctx, "run-1", vm.UUID, ts.Format("20060102T150405Z")); err != nil {
		t.Fatal(err)
	}
	repotest.WritePointRecords(t, rp, vm.UUID, ts, repotest.DiskImage(7, 2*repotest.ChunkSize), other)

	req := events.IncrementalRequested{RunID: "run-1", Job: "incr", Schedule: "nightly", FireTime: at, VMUUID: vm.UUID,
		VMName: vm.NameLabel, Pool: "lab", Remote: "repo", CBT: events.CBTEnable}
	msg, err := events.Subjects{}.Message(events.Meta{ID: "req-1", Source: "/test", Time: time.Now()}, req)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := incremental.NewWorker(e.deps).Handle(ctx, bus.Event{Received: events.Received{Message: msg, Payload: req},
		Delivery: bus.Delivery{Attempt: 2}})
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeIncrementalCompleted) {
		t.Fatalf("handle: %v %+v", err, outs)
	}
	var done events.IncrementalCompleted
	if err := json.Unmarshal(outs[0].Event.Data(), &done); err != nil {
		t.Fatal(err)
	}
	otherID := incremental.PointID("repo", repo.Point{VM: vm.UUID, Time: ts})
	if done.Backups[0].BackupID == otherID {
		t.Fatalf("run-1 reported the other job's point %s as its own", otherID)
	}
	if points, err := rp.List(ctx, vm.UUID); err != nil || len(points) != 3 {
		t.Fatalf("points: %v %v, want the first, the other job's and run-1's", points, err)
	}
}
