package runs_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/vmselect"
)

var flowFire = time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)

// testFlow is a full-mode flow over two selected VMs and one rejected VM;
// resolveErr, when set, makes Resolve fail.
type testFlow struct {
	runs.Flow
	resolveErr error
}

func newFlow(t *testing.T) *testFlow {
	clk := &clock{t: flowFire}
	tf := &testFlow{}
	daily := []config.Schedule{{Name: "daily", Enabled: true}}
	cfg := &config.Config{Jobs: []config.Job{
		{Name: "nightly", Mode: config.ModeFull, Concurrency: 1, Schedules: daily},
		{Name: "snaps", Mode: config.ModeSnapshot, Schedules: daily},
	}}
	tf.Flow = runs.Flow{Runs: coordinator(t, server(t), clk), Config: cfg, Work: "export",
		Topics: runs.Topics{Function: "export", Mode: config.ModeFull, Request: events.TypeExportRequested},
		Log:    discard(),
		Message: func(id string, p events.Payload) (bus.Out, error) {
			return events.Subjects{}.Message(events.Meta{ID: id, Source: events.Source("test"), Time: clk.Now()}, p)
		},
		Resolve: func(context.Context, config.Job) ([]runs.VM, error) {
			if tf.resolveErr != nil {
				return nil, tf.resolveErr
			}
			return runs.Selected(vmselect.Result{VMs: []vmselect.VM{{UUID: vms(2)[0].UUID, Name: "vm0", Pool: "lab"},
				{UUID: vms(2)[1].UUID, Name: "vm1", Pool: "lab"}},
				Rejected: []vmselect.Rejected{{UUID: "00000000-0000-4000-8000-0000000000ff", Name: "tpl", Pool: "lab", Reason: "is a template"}}}), nil
		},
		Request: func(job config.Job, r runs.Run, vm runs.VM) (bus.Out, error) {
			return tf.Message(events.DeriveID("export.requested", r.ID, vm.UUID), events.ExportRequested{RunID: r.ID,
				Job: job.Name, Schedule: r.Schedule, FireTime: r.FireTime, VMUUID: vm.UUID, VMName: vm.Name, Pool: vm.Pool,
				Remotes: []string{"local"}, Codec: "gzip"})
		},
		Result: func(ev bus.Event) (events.VMResult, string, error) {
			switch p := ev.Payload.(type) {
			case events.ExportCompleted:
				return events.VMResult{VMUUID: p.VMUUID, Status: events.StatusSuccess}, p.RunID, nil
			case events.ExportFailed:
				return events.VMResult{VMUUID: p.VMUUID, Status: events.StatusFailure, Error: p.Error}, p.RunID, nil
			}
			return events.VMResult{}, "", errors.New("unexpected " + string(ev.Type()))
		},
	}
	return tf
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// deliver wraps a payload as the attempt-th delivery of an event.
func deliver(t *testing.T, p events.Payload, attempt uint64) bus.Event {
	t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{ID: "in-" + string(p.EventType()), Source: "/test", Time: flowFire}, p)
	if err != nil {
		t.Fatal(err)
	}
	return bus.Event{Received: events.Received{Message: m, Payload: p}, Delivery: bus.Delivery{Attempt: attempt}}
}

// ended is a VM's end as the runner reads it: only its payload matters
// (the flow's Result reads it), so it needs no complete export.completed.
func ended(p events.Payload) bus.Event {
	return bus.Event{Received: events.Received{Payload: p}, Delivery: bus.Delivery{Attempt: 1}}
}

// due is a fire of job (of mode snapshot when it is "snaps", full otherwise).
func due(job, run string) events.ScheduleDue {
	mode := events.ModeFull
	if job == "snaps" {
		mode = events.ModeSnapshot
	}
	return events.ScheduleDue{RunID: run, Job: job, Schedule: "daily", Mode: mode, FireTime: flowFire}
}

// kinds lists the outs as "type" or "type:vm-uuid".
func kinds(outs []bus.Out) []string {
	var out []string
	for _, o := range outs {
		k := events.Type(o.Event.Type()).Short()
		var p struct {
			VM string `json:"vm_uuid"`
		}
		if err := o.Event.DataAs(&p); err == nil && p.VM != "" {
			k += ":" + p.VM[len(p.VM)-1:]
		}
		out = append(out, k)
	}
	return out
}

func ids(outs []bus.Out) []string {
	var out []string
	for _, o := range outs {
		out = append(out, o.Event.ID())
	}
	return out
}

// TestPlannerAndRunner walks one run through the shared planner and runner:
// the fire starts the first VM (concurrency 1), each VM's end releases the
// next, the last ends the run; redeliveries return the same event ids.
func TestPlannerAndRunner(t *testing.T) {
	tf := newFlow(t)
	ctx := context.Background()
	planner, runner := runs.NewPlanner(tf.Flow), runs.NewRunner(tf.Flow)
	outs, err := planner.Handle(ctx, deliver(t, due("nightly", "r1"), 1))
	if want := []string{"run.started", "export.requested:0"}; err != nil || !reflect.DeepEqual(kinds(outs), want) {
		t.Fatalf("plan: %v %v, want %v", kinds(outs), err, want)
	}
	again, err := planner.Handle(ctx, deliver(t, due("nightly", "r1"), 2))
	if err != nil || !reflect.DeepEqual(ids(again), ids(outs)) {
		t.Fatalf("redelivered fire: %v %v, want the same ids %v", ids(again), err, ids(outs))
	}
	vm := vms(2)
	next, err := runner.Handle(ctx, ended(events.ExportCompleted{RunID: "r1", VMUUID: vm[0].UUID}))
	if want := []string{"export.requested:1"}; err != nil || !reflect.DeepEqual(kinds(next), want) {
		t.Fatalf("first VM's end: %v %v, want %v", kinds(next), err, want)
	}
	last, err := runner.Handle(ctx, ended(events.ExportFailed{RunID: "r1", VMUUID: vm[1].UUID, Error: "boom"}))
	if want := []string{"run.completed"}; err != nil || !reflect.DeepEqual(kinds(last), want) {
		t.Fatalf("last VM's end: %v %v, want %v", kinds(last), err, want)
	}
	var done events.RunCompleted
	err = last[0].Event.DataAs(&done)
	if err != nil || done.Status != events.StatusPartial || len(done.Results) != 3 {
		t.Fatalf("run.completed %+v %v, want partial with 3 results", done, err)
	}
	if h, _ := tf.Runs.Holder(ctx, "nightly"); h != "" {
		t.Errorf("lock still held by %q", h)
	}
}

// TestPlannerRejects: fires the flow cannot plan. Its consumer reads the
// fires of its mode only, so any other is a permanent error that says why.
func TestPlannerRejects(t *testing.T) {
	tf := newFlow(t)
	ctx := context.Background()
	planner := runs.NewPlanner(tf.Flow)
	for name, tc := range map[string]struct {
		p    events.ScheduleDue
		want string
	}{
		"another mode": {due("snaps", "r1"), `schedule.due of mode "snapshot" (job snaps) reached the planner of mode "full"`},
		"unknown job":  {due("nope", "r2"), `schedule.due for unknown job "nope"`},
		"unknown schedule": {events.ScheduleDue{RunID: "r3", Job: "nightly", Schedule: "weekly", Mode: events.ModeFull,
			FireTime: flowFire}, `job nightly has no schedule "weekly"`},
		"the job's mode changed": {events.ScheduleDue{RunID: "r5", Job: "snaps", Schedule: "daily", Mode: events.ModeFull,
			FireTime: flowFire}, `schedule.due of mode "full" for job snaps, whose mode is now "snapshot"`},
	} {
		if _, err := planner.Handle(ctx, deliver(t, tc.p, 1)); !bus.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a permanent error saying %q", name, err, tc.want)
		}
	}
	if _, err := runs.NewRunner(tf.Flow).Handle(ctx, deliver(t, due("nightly", "r4"), 1)); !bus.IsPermanent(err) {
		t.Errorf("runner given a schedule.due: %v, want a permanent error", err)
	}
	outs, err := runs.NewRunner(tf.Flow).Handle(ctx, ended(events.ExportCompleted{RunID: "gone", VMUUID: vms(1)[0].UUID}))
	if err != nil || len(outs) != 0 {
		t.Errorf("end of a VM of no recorded run: %v %v, want nothing", kinds(outs), err)
	}
}

// TestPlannerLegacyFire: a fire without a mode (events contract 1.x),
// delivered before the upgrade to every planner and redelivered since, is
// planned by the planner of its job's mode and left by the others.
func TestPlannerLegacyFire(t *testing.T) {
	tf := newFlow(t)
	ctx := context.Background()
	planner := runs.NewPlanner(tf.Flow)
	legacy := func(job, run string) bus.Event {
		return bus.Event{Received: events.Received{Payload: events.ScheduleDue{RunID: run, Job: job, Schedule: "daily",
			FireTime: flowFire}}, Delivery: bus.Delivery{Attempt: 2}}
	}
	if outs, err := planner.Handle(ctx, legacy("snaps", "r1")); err != nil || len(outs) != 0 {
		t.Errorf("legacy fire of another mode's job: %v %v, want left alone", kinds(outs), err)
	}
	outs, err := planner.Handle(ctx, legacy("nightly", "r2"))
	if want := []string{"run.started", "export.requested:0"}; err != nil || !reflect.DeepEqual(kinds(outs), want) {
		t.Errorf("legacy fire of its own job: %v %v, want %v", kinds(outs), err, want)
	}
}

// TestPlannerResolveFailure: resolving fails; the fire is retried until
// PlanAttempts, then the run ends as a failure naming the cause.
func TestPlannerResolveFailure(t *testing.T) {
	tf := newFlow(t)
	tf.resolveErr = errors.New("pool lab unreachable")
	ctx := context.Background()
	planner := runs.NewPlanner(tf.Flow)
	for attempt := uint64(1); attempt < runs.PlanAttempts; attempt++ {
		if _, err := planner.Handle(ctx, deliver(t, due("nightly", "r1"), attempt)); err == nil || bus.IsPermanent(err) {
			t.Fatalf("attempt %d: %v, want a retryable error", attempt, err)
		}
	}
	outs, err := planner.Handle(ctx, deliver(t, due("nightly", "r1"), runs.PlanAttempts))
	if want := []string{"run.completed"}; err != nil || !reflect.DeepEqual(kinds(outs), want) {
		t.Fatalf("last attempt: %v %v, want %v", kinds(outs), err, want)
	}
	r, err := tf.Runs.Get(ctx, "r1")
	if err != nil || r.Status != events.StatusFailure || r.Reason != "pool lab unreachable" {
		t.Fatalf("run %+v %v, want failure: pool lab unreachable", r, err)
	}
}

func TestSelected(t *testing.T) {
	for _, tc := range []struct {
		name string
		rej  vmselect.Rejected
		want runs.VM
	}{
		{"exists but cannot be done", vmselect.Rejected{UUID: "u1", Name: "a", Pool: "lab", Reason: "is a template"},
			runs.VM{UUID: "u1", Name: "a", Pool: "lab", Result: &events.VMResult{VMUUID: "u1", VMName: "a",
				Status: events.StatusSkipped, Error: "VM is a template"}}},
		{"does not exist", vmselect.Rejected{UUID: "u2", Reason: "not found"},
			runs.VM{UUID: "u2", Pool: "unknown", Result: &events.VMResult{VMUUID: "u2",
				Status: events.StatusFailure, Error: "VM not found"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runs.Selected(vmselect.Result{VMs: []vmselect.VM{{UUID: "u0", Name: "z", Pool: "lab"}},
				Rejected: []vmselect.Rejected{tc.rej}})
			want := []runs.VM{{UUID: "u0", Name: "z", Pool: "lab"}, tc.want}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Selected: %+v, want %+v", got, want)
			}
		})
	}
}

// TestPlannerFailureReasonFromJoinedError: the pool's error is a joined
// one (a refused re-login after SESSION_INVALID), with a newline; the run
// still ends with a valid run.completed whose reason is one line.
func TestPlannerFailureReasonFromJoinedError(t *testing.T) {
	tf := newFlow(t)
	tf.resolveErr = errors.Join(errors.New("VM.get_all_records: SESSION_INVALID"),
		errors.New("login as root: SESSION_AUTHENTICATION_FAILED\tAuthentication failure"))
	ctx := context.Background()
	last := deliver(t, due("nightly", "r1"), runs.PlanAttempts)
	last.Delivery.Max = last.Delivery.Attempt // the fire's first try is its last delivery
	outs, err := runs.NewPlanner(tf.Flow).Handle(ctx, last)
	if want := []string{"run.completed"}; err != nil || !reflect.DeepEqual(kinds(outs), want) {
		t.Fatalf("last attempt: %v %v, want %v", kinds(outs), err, want)
	}
	var done events.RunCompleted
	if err := outs[0].Event.DataAs(&done); err != nil || done.Validate() != nil {
		t.Fatalf("run.completed %+v: %v %v", done, err, done.Validate())
	}
	want := "VM.get_all_records: SESSION_INVALID login as root: SESSION_AUTHENTICATION_FAILED Authentication failure"
	if done.Status != events.StatusFailure || done.Reason != want {
		t.Errorf("run.completed %s %q, want failure %q", done.Status, done.Reason, want)
	}
}

// TestPlannerQueuedFireGetsItsAttempts: a queued fire spends deliveries
// waiting for the running run; once admitted it still gets PlanAttempts
// tries, counted from the delivery that took the lock.
func TestPlannerQueuedFireGetsItsAttempts(t *testing.T) {
	tf := newFlow(t)
	tf.Config.Jobs[0].OnOverlap = runs.OverlapQueue
	ctx := context.Background()
	planner := runs.NewPlanner(tf.Flow)
	if _, err := planner.Handle(ctx, deliver(t, due("nightly", "r1"), 1)); err != nil {
		t.Fatal(err)
	}
	var busy *runs.BusyError
	for a := uint64(1); a <= runs.PlanAttempts; a++ {
		if _, err := planner.Handle(ctx, deliver(t, due("nightly", "r2"), a)); !errors.As(err, &busy) {
			t.Fatalf("delivery %d while r1 runs: %v, want a BusyError", a, err)
		}
	}
	for _, v := range vms(2) {
		if _, err := tf.Runs.Finish(ctx, "r1", ok(v.UUID)); err != nil {
			t.Fatal(err)
		}
	}
	tf.resolveErr = errors.New("pool lab: connection reset")
	admitted := uint64(runs.PlanAttempts + 1)
	for a := admitted; a < admitted+runs.PlanAttempts-1; a++ {
		outs, err := planner.Handle(ctx, deliver(t, due("nightly", "r2"), a))
		if err == nil || bus.IsPermanent(err) || len(outs) != 0 {
			t.Fatalf("delivery %d (try %d since admission): %v %v, want a retryable error", a, a-admitted+1, kinds(outs), err)
		}
	}
	if r, err := tf.Runs.Get(ctx, "r2"); !errors.Is(err, runs.ErrNotFound) {
		t.Fatalf("r2 recorded before its last try: %+v %v", r, err)
	}
	outs, err := planner.Handle(ctx, deliver(t, due("nightly", "r2"), admitted+runs.PlanAttempts-1))
	if want := []string{"run.completed"}; err != nil || !reflect.DeepEqual(kinds(outs), want) {
		t.Fatalf("try %d since admission: %v %v, want %v", runs.PlanAttempts, kinds(outs), err, want)
	}
	if r, err := tf.Runs.Get(ctx, "r2"); err != nil || r.Status != events.StatusFailure {
		t.Fatalf("r2 %+v %v, want failure", r, err)
	}
}

// TestPlannerNeverAbortsAStartedRun: a redelivery of a fire whose run has
// started meets a transient error on a try that gives the fire up; the
// run is announced again, not aborted.
func TestPlannerNeverAbortsAStartedRun(t *testing.T) {
	tf := newFlow(t)
	ctx := context.Background()
	first, err := runs.NewPlanner(tf.Flow).Handle(ctx, deliver(t, due("nightly", "r1"), 1))
	if err != nil {
		t.Fatal(err)
	}
	message, failed := tf.Message, false
	tf.Message = func(id string, p events.Payload) (bus.Out, error) {
		if !failed {
			failed = true
			return bus.Out{}, errors.New("nats: timeout")
		}
		return message(id, p)
	}
	outs, err := runs.NewPlanner(tf.Flow).Handle(ctx, deliver(t, due("nightly", "r1"), runs.PlanAttempts))
	if err != nil || !reflect.DeepEqual(ids(outs), ids(first)) {
		t.Fatalf("redelivery %d: %v %v, want the run's events again %v", runs.PlanAttempts, kinds(outs), err, kinds(first))
	}
	if r, err := tf.Runs.Get(ctx, "r1"); err != nil || r.State != runs.StateRunning {
		t.Fatalf("r1 %+v %v, want still running", r, err)
	}
}

// TestRunnerJobNoLongerConfigured: the job is renamed while its run runs;
// the next VM's end cannot request the next VM, so the run is aborted
// with a reason and its run.completed published.
func TestRunnerJobNoLongerConfigured(t *testing.T) {
	tf := newFlow(t)
	ctx := context.Background()
	if _, err := runs.NewPlanner(tf.Flow).Handle(ctx, deliver(t, due("nightly", "r1"), 1)); err != nil {
		t.Fatal(err)
	}
	tf.Config.Jobs[0].Name = "nightly-renamed"
	end := ended(events.ExportCompleted{RunID: "r1", VMUUID: vms(2)[0].UUID})
	outs, err := runs.NewRunner(tf.Flow).Handle(ctx, end)
	if want := []string{"run.completed"}; err != nil || !reflect.DeepEqual(kinds(outs), want) {
		t.Fatalf("VM's end: %v %v, want %v", kinds(outs), err, want)
	}
	const reason = "job nightly is no longer configured"
	var done events.RunCompleted
	if err := outs[0].Event.DataAs(&done); err != nil || done.Status != events.StatusFailure || done.Reason != reason {
		t.Errorf("run.completed %s %q %v, want failure %q", done.Status, done.Reason, err, reason)
	}
	if r, err := tf.Runs.Get(ctx, "r1"); err != nil || !r.Done() || r.Status != events.StatusFailure || r.Reason != reason {
		t.Errorf("r1 %+v %v, want done: failure %q", r, err, reason)
	}
	if h, _ := tf.Runs.Holder(ctx, "nightly"); h != "" {
		t.Errorf("lock still held by %q", h)
	}
	again, err := runs.NewRunner(tf.Flow).Handle(ctx, end)
	if err != nil || !reflect.DeepEqual(ids(again), ids(outs)) {
		t.Errorf("redelivered end: %v %v, want the same run.completed", kinds(again), err)
	}
}
