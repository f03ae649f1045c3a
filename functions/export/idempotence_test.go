package export_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/runs"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// startRun records a run of job over the simulator's first VM, as the
// planner does, and returns its export.requested.
func startRun(t *testing.T, e *env, job, runID string) events.ExportRequested {
	t.Helper()
	ctx := context.Background()
	vm := e.sourceVMs()[0]
	f := runs.Fire{RunID: runID, Job: job, Schedule: "daily", Mode: events.ModeFull, FireTime: fireAt}
	if a, err := e.coord.Admit(ctx, f); err != nil || a.Run != nil {
		t.Fatalf("Admit: %v %+v", err, a)
	}
	if _, err := e.coord.Start(ctx, f, 1, []runs.VM{{UUID: vm.UUID, Name: vm.NameLabel, Pool: "lab"}}); err != nil {
		t.Fatal(err)
	}
	return events.ExportRequested{RunID: runID, Job: job, Schedule: "daily", FireTime: fireAt, VMUUID: vm.UUID,
		VMName: vm.NameLabel, Pool: "lab", Remotes: []string{"local"}, Codec: "gzip"}
}

func requested(t *testing.T, p events.ExportRequested, attempt uint64) bus.Event {
	t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{ID: "req-" + p.RunID, Source: "/test", Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	return bus.Event{Received: events.Received{Message: m, Payload: p}, Delivery: bus.Delivery{Attempt: attempt}}
}

// TestRedeliveredRequest: handling the same export.requested twice yields
// one backup and the same export.completed.
func TestRedeliveredRequest(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	req := startRun(t, e, "nightly", "run-1")
	w := export.NewWorker(e.deps)
	first, err := w.Handle(context.Background(), requested(t, req, 1))
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.Handle(context.Background(), requested(t, req, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || len(second) != 1 || first[0].Event.ID() != second[0].Event.ID() ||
		first[0].Event.Type() != string(events.TypeExportCompleted) {
		t.Fatalf("follow-ups differ: %+v / %+v", first, second)
	}
	a, b := string(first[0].Event.Data()), string(second[0].Event.Data())
	for _, field := range []string{"backup_id", "sha256", "timestamp"} {
		if !strings.Contains(b, field) || jsonField(a, field) != jsonField(b, field) {
			t.Errorf("%s differs: %s vs %s", field, a, b)
		}
	}
	if bs := list(t, e.remotes["local"]); len(bs) != 1 {
		t.Fatalf("%d backups after a redelivery, want 1", len(bs))
	}
	if n := e.sim.Requests()["/export"]; n != 1 {
		t.Errorf("%d exports, want 1", n)
	}
	e.assertNoSnapshots()
}

func jsonField(doc, field string) string {
	i := strings.Index(doc, `"`+field+`"`)
	if i < 0 {
		return ""
	}
	rest := doc[i:]
	if j := strings.IndexAny(rest, ",}"); j > 0 {
		return rest[:j]
	}
	return rest
}

// TestLeftoversOfACrash: a crashed attempt left a tagged snapshot, a data
// file without its .json and a temp file; the redelivered request removes
// them and writes exactly one backup.
func TestLeftoversOfACrash(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	ctx := context.Background()
	req := startRun(t, e, "nightly", "run-1")
	crashed := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	if _, err := e.coord.RecordAttempt(ctx, req.RunID, req.VMUUID, catalog.FormatTimestamp(crashed)); err != nil {
		t.Fatal(err)
	}
	vm, err := e.client.VMByUUID(ctx, req.VMUUID)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.client.Snapshot(ctx, vm, xotag.TempSnapshotName, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.AddToOtherConfig(ctx, snap, xotag.KeyRun, req.RunID); err != nil {
		t.Fatal(err)
	}
	if err := e.client.AddToOtherConfig(ctx, snap, xotag.KeyVM, req.VMUUID); err != nil {
		t.Fatal(err)
	}
	id, _ := catalog.NewID("local", req.VMUUID, crashed)
	orphan, err := e.remotes["local"].Create(ctx, id.DataKey(), -1)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = orphan.Write([]byte("half an xva"))
	if err := orphan.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tmp, err := e.remotes["local"].Create(ctx, id.MetaKey(), -1) // never committed: a temp file
	if err != nil {
		t.Fatal(err)
	}
	_, _ = tmp.Write([]byte("{"))
	outs, err := export.NewWorker(e.deps).Handle(ctx, requested(t, req, 2))
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportCompleted) {
		t.Fatalf("Handle: %v %+v", err, outs)
	}
	if _, err := e.remotes["local"].Stat(ctx, id.DataKey()); err == nil {
		t.Errorf("orphan data file %s is still there", id.DataKey())
	}
	assertNoTemp(t, e.remotes["local"])
	bs := list(t, e.remotes["local"])
	if len(bs) != 1 || bs[0].ID == id {
		t.Fatalf("backups %+v, want one new backup", bs)
	}
	e.assertBackup(e.remotes["local"], bs[0], "nightly", "daily", "gzip")
	e.assertNoSnapshots()
	if _, err := e.client.VMRecord(ctx, snap); !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		t.Errorf("leftover snapshot still readable: %v", err)
	}
}

// TestPermanentErrors: events that no retry can fix are terminated.
func TestPermanentErrors(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	ctx := context.Background()
	due := events.ScheduleDue{RunID: "r1", Job: "nope", Schedule: "daily", Mode: events.ModeFull, FireTime: fireAt}
	m, _ := events.Subjects{}.Message(events.Meta{ID: "x", Source: "/test", Time: time.Now()}, due)
	_, err := export.NewPlanner(e.deps).Handle(ctx, bus.Event{Received: events.Received{Message: m, Payload: due}, Delivery: bus.Delivery{Attempt: 1}})
	if !bus.IsPermanent(err) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown job: %v, want a permanent error naming it", err)
	}
	// A VM that vanished fails at once, without retries.
	req := startRun(t, e, "nightly", "run-1")
	req.VMUUID = "00000000-0000-4000-8000-0000000000aa"
	outs, err := export.NewWorker(e.deps).Handle(ctx, requested(t, req, 1))
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportFailed) ||
		!strings.Contains(string(outs[0].Event.Data()), "is not in pool lab") {
		t.Fatalf("vanished VM: %v %+v", err, outs)
	}
}

// TestNothingSelected: a job whose selection is empty is reported skipped.
func TestNothingSelected(t *testing.T) {
	e := newEnv(t, 1, `  - name: tagged
    pools: [lab]
    remotes: [local]
    vms: {tags: [gpu]}
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`, false)
	e.start()
	done := e.runCompleted(e.fire("tagged", "daily", fireAt))
	if done.Status != events.StatusSkipped || done.Reason != "no VM selected" {
		t.Fatalf("run.completed: %+v", done)
	}
	if started := payloadsOf[events.RunStarted](e); len(started) != 0 {
		t.Errorf("run.started for an empty run: %+v", started)
	}
}
