package snapshot_test

import (
	"context"
	"fmt"
	"regexp"
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

type pools map[string]*xapi.Client

func (p pools) Client(_ context.Context, name string) (*xapi.Client, error) {
	if c, ok := p[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("pool %q is not configured", name)
}

type harness struct {
	t      *testing.T
	sim    *xapisim.Server
	client *xapi.Client
	s      *snapshot.Snapshotter
	vms    []xapisim.VMInfo
	now    time.Time
}

// newHarness starts NATS, a simulated pool of n VMs and the snapshot
// function for the jobs (YAML list items; pool "lab").
func newHarness(t *testing.T, n int, jobs string) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, now: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)}
	var err error
	h.sim, err = xapisim.New(xapisim.Options{VMs: n, DiskSize: 1 << 20, DisksPerVM: 2, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.sim.Close() })
	url, err := h.sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if h.client, err = xapi.New(url); err != nil {
		t.Fatal(err)
	}
	user, pass := h.sim.Credentials()
	if err := h.client.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	for _, vm := range h.sim.VMs() {
		h.vms = append(h.vms, vm)
	}
	doc := fmt.Sprintf("pools: [{name: lab, url: %q, username: %s, password: %s}]\nremotes: [{name: r, type: dir, path: /tmp}]\njobs:\n%s",
		url, user, pass, fmt.Sprintf(jobs, h.vms[0].UUID))
	cfg, err := config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	coord, err := runs.New(ctx, testsupport.StartBareNATS(t), runs.Options{Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.s = snapshot.New(cfg.Jobs, pools{"lab": h.client}, coord, events.Subjects{}, snapshot.Options{Now: func() time.Time { return h.now }})
	return h
}

func deliver(t *testing.T, m bus.Out) bus.Event { return testsupport.Deliver(t, m, 1, 0) }

// due handles a fire of job/schedule at the harness time.
func (h *harness) due(job, sched string) []bus.Out {
	h.t.Helper()
	return h.dueID(events.DeriveID("test", job, sched, h.now.String()), job, sched)
}

func (h *harness) dueID(id, job, sched string) []bus.Out {
	h.t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{ID: id, Source: "/test", Time: h.now},
		events.ScheduleDue{RunID: id, Job: job, Schedule: sched, Mode: events.ModeSnapshot, FireTime: h.now})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.handle(m)
}

func (h *harness) handle(m bus.Out) []bus.Out {
	h.t.Helper()
	outs, err := h.s.Handle(context.Background(), deliver(h.t, m))
	if err != nil {
		h.t.Fatal(err)
	}
	return outs
}

func types(outs []bus.Out) []string {
	var out []string
	for _, o := range outs {
		out = append(out, o.Event.Type())
	}
	return out
}

func only[T events.Payload](t *testing.T, outs []bus.Out) []T {
	t.Helper()
	var out []T
	for _, o := range outs {
		if p, ok := deliver(t, o).Payload.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

const jobs = `  - name: snap
    mode: snapshot
    pools: [lab]
    concurrency: 1
    schedules: [{name: hourly, cron: "0 * * * *", snapshot_retention: 2}]
  - name: listed
    mode: snapshot
    pools: [lab]
    vms: {uuids: [%s, 0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f]}
    schedules: [{name: hourly, cron: "0 * * * *", snapshot_retention: 2}]
  - name: full
    pools: [lab]
    remotes: [r]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 2}]
`

// A run snapshots its VMs concurrency at a time: each completion releases the
// next request, the last one ends the run.
func TestRunConcurrencyOne(t *testing.T) {
	h := newHarness(t, 2, jobs)
	outs := h.due("snap", "hourly")
	if got := fmt.Sprint(types(outs)); got != "[xbr.run.started xbr.snapshot.requested]" {
		t.Fatalf("planned %s", got)
	}
	started := only[events.RunStarted](t, outs)[0]
	if len(started.VMs) != 2 || started.Mode != events.ModeSnapshot {
		t.Errorf("run.started %+v", started)
	}
	outs = h.handle(outs[1])
	if got := fmt.Sprint(types(outs)); got != "[xbr.snapshot.completed xbr.snapshot.requested]" {
		t.Fatalf("after the first VM: %s", got)
	}
	outs = h.handle(outs[1])
	if got := fmt.Sprint(types(outs)); got != "[xbr.snapshot.completed xbr.run.completed]" {
		t.Fatalf("after the second VM: %s", got)
	}
	if rc := only[events.RunCompleted](t, outs)[0]; rc.Status != events.StatusSuccess || len(rc.Results) != 2 {
		t.Errorf("run.completed %+v", rc)
	}
	if n := len(h.sim.Snapshots()); n != 2 {
		t.Errorf("%d snapshots, want 2", n)
	}
}

// A fire while the job runs is skipped, as Xen Orchestra does; a fire of a
// full job is not the snapshot function's: its consumer never reads one, and
// one that reaches it anyway is refused with the reason. A full job's fire
// from before the mode subject (redelivered to every planner) is left alone.
func TestOverlapSkippedAndOtherModesRefused(t *testing.T) {
	h := newHarness(t, 1, jobs)
	h.due("snap", "hourly")
	h.now = h.now.Add(time.Minute)
	outs := h.due("snap", "hourly")
	rc := only[events.RunCompleted](t, outs)
	if len(outs) != 1 || len(rc) != 1 || rc[0].Status != events.StatusSkipped {
		t.Errorf("second fire gave %v", types(outs))
	}
	full := events.ScheduleDue{RunID: "f1", Job: "full", Schedule: "daily", Mode: events.ModeFull, FireTime: h.now}
	_, err := h.s.Handle(context.Background(), bus.Event{Received: events.Received{Payload: full}})
	if !bus.IsPermanent(err) || !strings.Contains(err.Error(), `schedule.due of mode "full" (job full) reached the planner of mode "snapshot"`) {
		t.Errorf("a full job's fire: %v, want refused with the reason", err)
	}
	full.Mode = ""
	outs, err = h.s.Handle(context.Background(), bus.Event{Received: events.Received{Payload: full}})
	if err != nil || len(outs) != 0 {
		t.Errorf("a full job's fire without mode: %v %v, want left alone", types(outs), err)
	}
}

// The snapshot and each of its disks carry XO's keys (datetime with colons);
// it is renamed and not a template; the source VM's stale backup keys are
// removed first so the snapshot does not inherit them.
func TestSnapshotStampedLikeXO(t *testing.T) {
	h := newHarness(t, 1, jobs)
	ctx := context.Background()
	src := xapi.VMRef(h.vms[0].Ref)
	if err := h.client.AddToOtherConfig(ctx, src, xotag.KeyJob, "stale"); err != nil {
		t.Fatal(err)
	}
	outs := h.due("listed", "hourly")
	var done []events.SnapshotCompleted
	for _, o := range outs {
		if o.Event.Type() == string(events.TypeSnapshotRequested) {
			done = append(done, only[events.SnapshotCompleted](t, h.handle(o))...)
		}
	}
	if len(done) != 1 {
		t.Fatalf("completed %v", done)
	}
	rec, err := h.client.VMRecord(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.OtherConfig[xotag.KeyJob]; ok {
		t.Errorf("source VM keeps %s", xotag.KeyJob)
	}
	snapRef, err := h.client.VMByUUID(ctx, done[0].SnapshotUUID)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := h.client.VMRecord(ctx, snapRef)
	if err != nil {
		t.Fatal(err)
	}
	if snap.NameLabel != "[XO Backup listed] "+h.vms[0].NameLabel || snap.IsATemplate || !snap.IsASnapshot ||
		done[0].SnapshotName != snap.NameLabel || done[0].Timestamp != "20260301T020000Z" {
		t.Errorf("snapshot %q template=%v, event %+v", snap.NameLabel, snap.IsATemplate, done[0])
	}
	// XO's job and schedule ids: the UUIDs (here derived from the names).
	jobID := config.DeriveID(config.IDNamespace, "listed")
	want := map[string]string{xotag.KeyJob: jobID, xotag.KeySchedule: config.DeriveID(jobID, "hourly"),
		xotag.KeyVM: h.vms[0].UUID, xotag.KeyDatetime: "20260301T02:00:00Z"}
	objs := []map[string]string{snap.OtherConfig}
	for _, vbd := range snap.VBDs {
		b, _ := h.client.VBDRecord(ctx, vbd)
		if b.Type == "Disk" {
			d, _ := h.client.VDIRecord(ctx, b.VDI)
			objs = append(objs, d.OtherConfig)
		}
	}
	if len(objs) != 3 {
		t.Fatalf("%d objects stamped, want the VM and its 2 disks", len(objs))
	}
	for i, oc := range objs {
		for k, v := range want {
			if oc[k] != v {
				t.Errorf("object %d: %s = %q, want %q", i, k, oc[k], v)
			}
		}
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(oc[xotag.KeyRun]) {
			t.Errorf("object %d: %s = %q", i, xotag.KeyRun, oc[xotag.KeyRun])
		}
	}
}

// A VM listed by uuid that does not exist fails the run's result for it; a
// VM that vanished before its snapshot gives snapshot.failed, and the run
// ends as a failure.
func TestMissingVMsFail(t *testing.T) {
	h := newHarness(t, 1, jobs)
	outs := h.due("listed", "hourly")
	var req bus.Out
	for _, o := range outs {
		if o.Event.Type() == string(events.TypeSnapshotRequested) {
			req = o
		}
	}
	if err := h.client.DestroyVM(context.Background(), xapi.VMRef(h.vms[0].Ref)); err != nil {
		t.Fatal(err)
	}
	outs = h.handle(req)
	failed := only[events.SnapshotFailed](t, outs)
	rc := only[events.RunCompleted](t, outs)
	if len(failed) != 1 || len(rc) != 1 || rc[0].Status != events.StatusFailure || len(rc[0].Results) != 2 {
		t.Fatalf("events %v", types(outs))
	}
	for _, r := range rc[0].Results {
		if r.Status != events.StatusFailure || r.Error == "" {
			t.Errorf("result %+v", r)
		}
	}
	if n := len(h.sim.Snapshots()); n != 0 {
		t.Errorf("%d snapshots left", n)
	}
}

// drain handles every request among outs and what they release.
func (h *harness) drain(outs []bus.Out) (all []bus.Out) {
	for len(outs) > 0 {
		o := outs[0]
		outs = outs[1:]
		all = append(all, o)
		if o.Event.Type() == string(events.TypeSnapshotRequested) {
			outs = append(outs, h.handle(o)...)
		}
	}
	return all
}

// Two runs within one second still give distinct datetimes, so retention
// counts two rolling snapshots, not one.
func TestRunsInOneSecondGetDistinctDatetimes(t *testing.T) {
	h := newHarness(t, 1, jobs)
	a := only[events.SnapshotCompleted](t, h.drain(h.dueID("run-a", "listed", "hourly")))
	b := only[events.SnapshotCompleted](t, h.drain(h.dueID("run-b", "listed", "hourly")))
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("completed %v and %v", a, b)
	}
	if a[0].Timestamp != "20260301T020000Z" || b[0].Timestamp != "20260301T020001Z" {
		t.Errorf("timestamps %s and %s", a[0].Timestamp, b[0].Timestamp)
	}
}

// TestLastDeliveryRecordsTheVMFailed: a VM that cannot be snapshotted is
// retried by redelivery within the job's retries, but its request's last
// delivery records it failed and releases the next VM, so the run goes on.
func TestLastDeliveryRecordsTheVMFailed(t *testing.T) {
	h := newHarness(t, 2, `  - name: snap
    mode: snapshot
    pools: [lab]
    concurrency: 1
    retries: 5
    schedules: [{name: hourly, cron: "0 * * * *", snapshot_retention: 2}]
`+"# %s\n")
	outs := h.due("snap", "hourly")
	req := only[events.SnapshotRequested](t, outs)[0]
	req.Pool = "nowhere" // the pool's client fails
	m, err := events.Subjects{}.Message(events.Meta{ID: "bad", Source: "/test", Time: h.now}, req)
	if err != nil {
		t.Fatal(err)
	}
	if outs, err := h.s.Handle(context.Background(), testsupport.Deliver(t, m, 1, 2)); err == nil {
		t.Fatalf("first delivery: %v; want an error for a redelivery", types(outs))
	}
	outs, err = h.s.Handle(context.Background(), testsupport.Deliver(t, m, 2, 2))
	if got := fmt.Sprint(types(outs)); err != nil || got != "[xbr.snapshot.failed xbr.snapshot.requested]" {
		t.Fatalf("last delivery: %s, %v", got, err)
	}
	if f := only[events.SnapshotFailed](t, outs)[0]; f.VMUUID != req.VMUUID || !strings.Contains(f.Error, "nowhere") {
		t.Errorf("snapshot.failed %+v", f)
	}
}

// TestReplicaCopyKeepsItsKeys: a snapshot job whose selection takes in a
// replicate job's copy that was failed over (all the VMs of a pool that also
// holds the copies; start unblocked, so a VM again: a standby copy is never
// selected, see shared/vmselect) snapshots it but leaves the copy's own keys
// alone: they are what `xbr dr`, failover and copy_retention find the copy
// by. Only keys that name the VM itself are stale and removed.
func TestReplicaCopyKeepsItsKeys(t *testing.T) {
	h := newHarness(t, 2, jobs)
	ctx := context.Background()
	copyRef := xapi.VMRef(h.vms[1].Ref)
	keys := xotag.OtherConfig("4a1d9f0e-0b7c-5d2e-8f3a-6b5c4d3e2f1a", "9e8d7c6b-5a4f-5e3d-8c2b-1a0f9e8d7c6b",
		h.vms[0].UUID, "run-1", h.now.Add(-time.Hour))
	keys[xotag.KeySR] = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
	for k, v := range keys {
		if err := h.client.AddToOtherConfig(ctx, copyRef, k, v); err != nil {
			t.Fatal(err)
		}
	}
	done := only[events.SnapshotCompleted](t, h.drain(h.due("snap", "hourly")))
	if len(done) != 2 {
		t.Fatalf("%d snapshots completed, want 2", len(done))
	}
	rec, err := h.client.VMRecord(ctx, copyRef)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range keys {
		if rec.OtherConfig[k] != v {
			t.Errorf("copy's %s = %q after the snapshot job, want %q", k, rec.OtherConfig[k], v)
		}
	}
}
