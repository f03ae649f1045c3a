package prune_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/snapshot"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xotag"
)

// snapshotter returns the snapshot function's handler on the world's pool,
// its runs coordinated on an embedded NATS server.
func (w *world) snapshotter() *snapshot.Snapshotter {
	t := w.t
	coord, err := runs.New(context.Background(), testsupport.StartNATS(t), runs.Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return snapshot.New(w.cfg.Jobs, poolMap{"lab": w.client}, coord, events.Subjects{},
		snapshot.Options{Now: w.clock.Now, Log: testLogger()})
}

// fire runs one fire of the snapshot job's schedule to its end, handing
// every follow-up to the function that consumes it, and returns every event.
func (w *world) fire(s *snapshot.Snapshotter, sched string) []events.Received {
	t := w.t
	at := w.clock.Now()
	id := events.DeriveID("schedule.due", "snap", sched, at.Format(time.RFC3339))
	queue := []bus.Event{received(t, id, events.ScheduleDue{RunID: id, Job: "snap", Schedule: sched, Mode: events.ModeSnapshot, FireTime: at})}
	var all []events.Received
	for len(queue) > 0 {
		ev := queue[0]
		queue = queue[1:]
		all = append(all, ev.Received)
		var outs []bus.Out
		var err error
		switch ev.Type() {
		case events.TypeScheduleDue, events.TypeSnapshotRequested:
			outs, err = s.Handle(context.Background(), ev)
		case events.TypeSnapshotCompleted:
			outs, err = w.pruner.Handle(context.Background(), ev)
		}
		if err != nil {
			t.Fatalf("%s: %v", ev.Type(), err)
		}
		for _, o := range outs {
			queue = append(queue, redeliver(t, o, 1))
		}
	}
	return all
}

func ofType[T events.Payload](all []events.Received) []T {
	var out []T
	for _, r := range all {
		if p, ok := r.Payload.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// snapshotsOf are the snapshot VMs of vm.
func (w *world) snapshotsOf(vm xapisim.VMInfo) []xapisim.VMInfo {
	var out []xapisim.VMInfo
	for _, s := range w.sim.Snapshots() {
		if s.SnapshotOf == vm.Ref {
			out = append(out, s)
		}
	}
	return out
}

// orphanSnapshotDisks are snapshot VDIs that no VBD uses any more.
func (w *world) orphanSnapshotDisks() []string {
	var out []string
	for _, ref := range w.sim.Refs("VDI") {
		rec, err := w.sim.Record("VDI", ref)
		if err != nil {
			continue
		}
		vbds, _ := rec["VBDs"].([]string)
		if snap, _ := rec["is_a_snapshot"].(bool); snap && len(vbds) == 0 {
			out = append(out, ref)
		}
	}
	return out
}

// Rolling snapshots with depth 2 over 5 runs leave exactly 2 snapshots per
// VM, the 2 newest, named and stamped as Xen Orchestra does, with no orphaned
// snapshot disk; the job's other schedule and a manual snapshot are untouched.
func TestRollingSnapshotsDepthTwoOverFiveRuns(t *testing.T) {
	w := newWorld(t, 2, "dir")
	s := w.snapshotter()
	ctx := context.Background()
	manual, err := w.client.Snapshot(ctx, vmRef(w.vms[0]), "before upgrade", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.fire(s, "daily")
	diskVDIs := len(w.sim.Refs("VDI"))
	var stamps []string
	for run := range 5 {
		w.clock.Add(time.Hour)
		stamps = append(stamps, xotag.FormatDatetime(w.clock.Now()))
		all := w.fire(s, "hourly")
		done := ofType[events.SnapshotCompleted](all)
		pruned := ofType[events.PruneCompleted](all)
		ended := ofType[events.RunCompleted](all)
		if len(done) != 2 || len(pruned) != 2 || len(ended) != 1 || ended[0].Status != events.StatusSuccess {
			t.Fatalf("run %d: %d completed, %d pruned, run %+v", run, len(done), len(pruned), ended)
		}
		for _, p := range pruned {
			want := 0
			if run >= 2 {
				want = 1
			}
			if len(p.Deleted) != want || p.Kind != events.PruneSnapshots || p.Retention != 2 {
				t.Errorf("run %d: prune %+v", run, p)
			}
		}
	}
	snapJob, _ := w.cfg.Job("snap")
	hourlyID, dailyID := config.DeriveID(snapJob.ID, "hourly"), config.DeriveID(snapJob.ID, "daily")
	for i, vm := range w.vms {
		var hourly []string
		daily, others := 0, 0
		for _, sn := range w.snapshotsOf(vm) {
			oc := otherConfig(t, w, sn.Ref)
			switch {
			case oc[xotag.KeyJob] == snapJob.ID && oc[xotag.KeySchedule] == hourlyID:
				hourly = append(hourly, oc[xotag.KeyDatetime])
				if sn.NameLabel != "[XO Backup snap] "+vm.NameLabel || sn.IsTemplate || oc[xotag.KeyVM] != vm.UUID {
					t.Errorf("snapshot %+v, other_config %v", sn, oc)
				}
			case oc[xotag.KeySchedule] == dailyID:
				daily++
			default:
				others++
			}
		}
		slices.Sort(hourly)
		if !slices.Equal(hourly, stamps[3:]) {
			t.Errorf("vm %s: hourly snapshots %v, want the 2 newest %v", vm.NameLabel, hourly, stamps[3:])
		}
		if wantOthers := map[bool]int{true: 1, false: 0}[i == 0]; daily != 1 || others != wantOthers {
			t.Errorf("vm %s: %d daily, %d other snapshots; want 1 and %d", vm.NameLabel, daily, others, wantOthers)
		}
	}
	if orphans := w.orphanSnapshotDisks(); len(orphans) != 0 {
		t.Errorf("orphaned snapshot disks: %v", orphans)
	}
	// 2 more rolling snapshots per VM, 2 disks each, since the first daily run.
	if got, want := len(w.sim.Refs("VDI")), diskVDIs+2*2*2; got != want {
		t.Errorf("%d VDIs, want %d", got, want)
	}
	if _, err := w.client.VMRecord(ctx, manual); err != nil {
		t.Errorf("manual snapshot gone: %v", err)
	}
}

// A redelivered snapshot.requested yields no second snapshot and the same
// events (ids derived from the run and the VM).
func TestSnapshotRequestRedelivered(t *testing.T) {
	w := newWorld(t, 1, "dir")
	s := w.snapshotter()
	at := w.clock.Now()
	id := events.DeriveID("schedule.due", "snap", "hourly", at.Format(time.RFC3339))
	due := received(t, id, events.ScheduleDue{RunID: id, Job: "snap", Schedule: "hourly", Mode: events.ModeSnapshot, FireTime: at})
	planned, err := s.Handle(context.Background(), due)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Handle(context.Background(), due)
	if err != nil || len(again) != len(planned) {
		t.Fatalf("replanned %d events (first %d), err %v", len(again), len(planned), err)
	}
	var req bus.Out
	for i, o := range planned {
		if o.Event.ID() != again[i].Event.ID() {
			t.Errorf("replanned event %d has id %s, first %s", i, again[i].Event.ID(), o.Event.ID())
		}
		if o.Event.Type() == string(events.TypeSnapshotRequested) {
			req = o
		}
	}
	first, err := s.Handle(context.Background(), redeliver(t, req, 1))
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Add(2 * time.Second)
	second, err := s.Handle(context.Background(), redeliver(t, req, 2))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.snapshotsOf(w.vms[0])); n != 1 {
		t.Errorf("%d snapshots after a redelivery, want 1", n)
	}
	if len(first) != len(second) || len(first) != 2 {
		t.Fatalf("events %d then %d, want snapshot.completed and run.completed twice", len(first), len(second))
	}
	for i := range first {
		if first[i].Event.ID() != second[i].Event.ID() {
			t.Errorf("event %d: id %s then %s", i, first[i].Event.ID(), second[i].Event.ID())
		}
	}
	a, b := payloads[events.SnapshotCompleted](t, first), payloads[events.SnapshotCompleted](t, second)
	if a[0].SnapshotUUID != b[0].SnapshotUUID || a[0].Timestamp != b[0].Timestamp {
		t.Errorf("first %+v, redelivered %+v", a[0], b[0])
	}
}

func vmRef(vm xapisim.VMInfo) xapi.VMRef { return xapi.VMRef(vm.Ref) }

func otherConfig(t *testing.T, w *world, ref string) map[string]string {
	t.Helper()
	rec, err := w.client.VMRecord(context.Background(), xapi.VMRef(ref))
	if err != nil {
		t.Fatal(err)
	}
	return rec.OtherConfig
}

// A rolling snapshot that cannot be destroyed (here an operator blocked its
// destroy) is reported, but does not stop the prune: the other snapshots
// beyond snapshot_retention are still destroyed, so one stuck snapshot never
// lets the others pile up on the SR.
func TestRollingSnapshotPruneGoesOnPastOneItCannotDestroy(t *testing.T) {
	w := newWorld(t, 1, "dir")
	s := w.snapshotter()
	ctx := context.Background()
	vm := w.vms[0]
	w.fire(s, "hourly")
	first := w.snapshotsOf(vm)
	if len(first) != 1 {
		t.Fatalf("%d snapshots after the first run, want 1", len(first))
	}
	if err := w.client.AddToBlockedOperations(ctx, vmRef(first[0]), "destroy", "kept by hand"); err != nil {
		t.Fatal(err)
	}
	var stamps []string
	for run := range 4 {
		w.clock.Add(time.Hour)
		stamps = append(stamps, xotag.FormatDatetime(w.clock.Now()))
		all := w.fire(s, "hourly")
		if run < 1 {
			continue
		}
		failed := ofType[events.PruneFailed](all)
		if len(failed) != 1 || !strings.Contains(failed[0].Error, first[0].UUID) {
			t.Errorf("run %d: prune.failed %+v, want one naming the blocked snapshot", run, failed)
		}
	}
	var left []string
	for _, sn := range w.snapshotsOf(vm) {
		left = append(left, otherConfig(t, w, sn.Ref)[xotag.KeyDatetime])
	}
	slices.Sort(left)
	want := append([]string{xotag.FormatDatetime(t0)}, stamps[2:]...)
	if !slices.Equal(left, want) {
		t.Errorf("rolling snapshots left %v, want the blocked one and the 2 newest %v", left, want)
	}
}
