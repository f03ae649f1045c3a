package runs_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
	"xbr/shared/vmselect"
)

// TestPlannerGivesUpWhenItsOutcomeIsInvalid runs the planner on a real
// consumer. The pool lists a VM whose name has a control character, so
// run.started can never be built; after the consumer's last delivery the
// fire is terminated (copied to the DLQ) and the run recorded as failed,
// with a run.completed that says why.
func TestPlannerGivesUpWhenItsOutcomeIsInvalid(t *testing.T) {
	url := server(t)
	tf := newFlow(t)
	tf.Runs = coordinator(t, url, &clock{t: flowFire})
	tf.Resolve = func(context.Context, config.Job) ([]runs.VM, error) {
		return runs.Selected(vmselect.Result{VMs: []vmselect.VM{{UUID: vms(1)[0].UUID, Name: "bad\x01name", Pool: "lab"}}}), nil
	}
	conn, err := bus.Connect(url, bus.ConnectOptions{Name: t.Name()}, discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	if err := conn.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	s := events.Subjects{}
	cfg := runs.Topics{Function: "export", Mode: config.ModeFull, Request: events.TypeExportRequested}.Consumers(s, events.DefaultEventsStream, 1)[0]
	cfg.MaxDeliver, cfg.FetchWait, cfg.DrainTimeout = 3, 100*time.Millisecond, time.Second
	cfg.Backoff = func(uint64) time.Duration { return 10 * time.Millisecond }
	done := make(chan error, 1)
	go func() { done <- conn.Consume(ctx, cfg, runs.NewPlanner(tf.Flow)) }()
	t.Cleanup(func() { cancel(); <-done })
	publish(t, conn, s, due("nightly", "r1"))

	var completed events.RunCompleted
	testsupport.Eventually(t, 15*time.Second, "run.completed of r1", func() bool {
		return lastPayload(t, conn, events.DefaultEventsStream, s.For(events.TypeRunCompleted, "nightly", "r1"), &completed)
	})
	if completed.Status != events.StatusFailure || !strings.Contains(completed.Reason, "control character") {
		t.Errorf("run.completed %s %q, want failure naming the invalid run.started", completed.Status, completed.Reason)
	}
	var fired events.ScheduleDue
	testsupport.Eventually(t, 15*time.Second, "the fire in the DLQ", func() bool {
		return lastPayload(t, conn, events.DefaultDLQStream, s.DLQ("export"), &fired)
	})
	r, err := tf.Runs.Get(ctx, "r1")
	if err != nil || !r.Done() || r.Status != events.StatusFailure || r.Reason == "" {
		t.Errorf("recorded run %+v %v, want done with status failure and a reason", r, err)
	}
	if h, err := tf.Runs.Holder(ctx, "nightly"); h != "" || err != nil {
		t.Errorf("lock still held by %q (%v)", h, err)
	}
}

// lastPayload decodes the body of the last message on subject into v;
// false when there is none.
func lastPayload(t *testing.T, conn *bus.Conn, stream, subject string, v any) bool {
	t.Helper()
	st, err := conn.JetStream().Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(context.Background(), subject)
	if err != nil {
		return false
	}
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	return true
}

// TestRunnerGivesUpOnTheLastDelivery: the run's last VM ends but its
// run.completed cannot be built (a VM name the contract refuses); the
// VM's end is retried, and on its last delivery the run is recorded failed
// and a run.completed without results says why.
func TestRunnerGivesUpOnTheLastDelivery(t *testing.T) {
	tf := newFlow(t)
	ctx := context.Background()
	vm := runs.VM{UUID: vms(1)[0].UUID, Name: "bad\x01name", Pool: "lab"}
	f := runs.Fire{RunID: "r1", Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: flowFire}
	if _, err := tf.Runs.Admit(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := tf.Runs.Start(ctx, f, 1, []runs.VM{vm}); err != nil {
		t.Fatal(err)
	}
	tf.Result = func(ev bus.Event) (events.VMResult, string, error) {
		p := ev.Payload.(events.ExportCompleted)
		return events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusSuccess}, p.RunID, nil
	}
	end := ended(events.ExportCompleted{RunID: "r1", VMUUID: vm.UUID, VMName: vm.Name})
	end.Delivery = bus.Delivery{Attempt: 1, Max: 3}
	if outs, err := runs.NewRunner(tf.Flow).Handle(ctx, end); err == nil || bus.IsPermanent(err) || len(outs) != 0 {
		t.Fatalf("first delivery: %v %v, want a retryable error", kinds(outs), err)
	}
	end.Delivery.Attempt = 3
	outs, err := runs.NewRunner(tf.Flow).Handle(ctx, end)
	if want := []string{"run.completed"}; !bus.IsPermanent(err) || !reflect.DeepEqual(kinds(outs), want) {
		t.Fatalf("last delivery: %v %v, want %v and a permanent error", kinds(outs), err, want)
	}
	var done events.RunCompleted
	if err := outs[0].Event.DataAs(&done); err != nil || done.Status != events.StatusFailure ||
		!strings.Contains(done.Reason, "control character") || len(done.Results) != 0 {
		t.Errorf("run.completed %+v %v, want a failure naming the refused name, without results", done, err)
	}
	if r, err := tf.Runs.Get(ctx, "r1"); err != nil || r.Status != events.StatusFailure {
		t.Errorf("recorded run %+v %v, want failure", r, err)
	}
}
