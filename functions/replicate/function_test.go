package replicate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/replicate"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/config"
	"xbr/shared/failovers"
	"xbr/shared/fn"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
)

// drHarness runs the replicate function on an embedded NATS server against
// a main and a standby simulated pool.
type drHarness struct {
	main, standby *testPool
	cfg           *config.Config
	conn          *bus.Conn
	subjects      events.Subjects
	deps          replicate.Deps
	env           *fn.Env
}

func newDRHarness(t *testing.T) *drHarness {
	t.Helper()
	h := &drHarness{main: startPool(t, "main", 2), standby: startPool(t, "standby", 1)}
	mu, mp := h.main.sim.Credentials()
	su, sp := h.standby.sim.Credentials()
	doc := fmt.Sprintf(`pools:
  - {name: main, url: %q, username: %s, password: %s}
  - {name: standby, url: %q, username: %s, password: %s}
jobs:
  - name: dr
    mode: replicate
    pools: [main]
    target: {pool: standby, sr: Local storage}
    xapi_compression: zstd
    concurrency: 1
    schedules:
      - {name: hourly, cron: "0 * * * *", copy_retention: 1}
`, h.main.url, mu, mp, h.standby.url, su, sp)
	cfg, err := config.Parse("dr.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	log := slog.New(slog.DiscardHandler)
	h.conn, err = bus.Connect(srv.ClientURL(), bus.ConnectOptions{Name: t.Name()}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.conn.Close() })
	ctx := context.Background()
	if err := h.conn.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	coord, err := runs.New(ctx, h.conn, runs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pools := fn.NewPools(cfg.Pools, log)
	t.Cleanup(func() { pools.Close(context.Background()) })
	h.deps = replicate.Deps{Config: cfg, Pools: pools, Runs: coord, Publisher: h.conn, Subjects: h.subjects,
		Log: log, ProgressEvery: time.Nanosecond}
	h.env = &fn.Env{Config: cfg, Pools: pools, Log: log, Now: time.Now}
	return h
}

// serve runs the function until the test ends.
func (h *drHarness) serve(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- replicate.Consume(ctx, h.conn, events.StreamNames{}, h.deps) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consume: %v", err)
		}
	})
}

// run fires the job's schedule and returns its run.completed.
func (h *drHarness) run(t *testing.T, runID string) events.RunCompleted {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := h.conn.Watch(ctx, bus.WatchOptions{Subjects: []string{h.subjects.Filter(events.TypeRunCompleted)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	m, err := h.subjects.Message(events.Meta{ID: runID, Source: events.Source("test"), Time: time.Now()},
		events.ScheduleDue{RunID: runID, Job: "dr", Schedule: "hourly", Mode: events.ModeReplicate, FireTime: time.Now().UTC(), Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.conn.Publish(ctx, m.Subject, m.Event); err != nil {
		t.Fatal(err)
	}
	for {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for run %s to complete: %v", runID, err)
		}
		if p, ok := r.Event.Payload.(events.RunCompleted); ok && p.RunID == runID {
			return p
		}
	}
}

func TestReplicateRunsOnTheBus(t *testing.T) {
	h := newDRHarness(t)
	h.serve(t)
	vms := h.main.sourceVMs(t)
	for _, id := range []string{"run-1", "run-2"} {
		rc := h.run(t, id)
		if rc.Status != events.StatusSuccess || len(rc.Results) != len(vms) {
			t.Fatalf("%s: %+v", id, rc)
		}
	}
	srUUID := h.standby.srUUID(t)
	kept := map[string]string{}
	for _, vm := range vms {
		cs := h.standby.copiesOf(t, vm.UUID)
		if len(cs) != 1 || cs[0].Run != "run-2" {
			t.Fatalf("vm %s: copies %+v, want one from run-2", vm.NameLabel, cs)
		}
		checkCopy(t, h.standby, cs[0], vm, srUUID)
		kept[vm.UUID] = cs[0].UUID
		job := h.cfg.Jobs[0]
		if cs[0].JobID != job.ID || cs[0].ScheduleID != job.Schedules[0].ID || cs[0].Job != job.Name {
			t.Errorf("vm %s: copy keyed by job %q schedule %q (%s), want the ids %s and %s",
				vm.NameLabel, cs[0].JobID, cs[0].ScheduleID, cs[0].Job, job.ID, job.Schedules[0].ID)
		}
	}
	// A cut export: the run fails, the copies of run-2 stay.
	h.main.sim.SetFaults(xapisimDrop(2048)) // the zstd XVAs are ~8 KiB
	if rc := h.run(t, "run-3"); rc.Status != events.StatusFailure {
		t.Errorf("run-3 with cut exports: %+v", rc)
	}
	h.main.sim.SetFaults(xapisimDrop(0))
	for _, vm := range vms {
		if cs := h.standby.copiesOf(t, vm.UUID); len(cs) != 1 || cs[0].UUID != kept[vm.UUID] {
			t.Errorf("vm %s after the failed run: %+v, want only %s", vm.NameLabel, cs, kept[vm.UUID])
		}
	}
	if n := len(h.main.sim.Snapshots()); n != 0 {
		t.Errorf("%d snapshots leaked on the main pool", n)
	}
	checkEvents(t, h, "run-2", len(vms))
	h.failover(t, vms[0].UUID, kept[vms[0].UUID])
}

// checkEvents: each VM of the run has one requested (the work item), one
// started (its one attempt) and one completed event.
func checkEvents(t *testing.T, h *drHarness, runID string, nVMs int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := h.conn.Watch(ctx, bus.WatchOptions{Subjects: []string{
		h.subjects.Filter(events.TypeReplicateRequested), h.subjects.Filter(events.TypeReplicateStarted),
		h.subjects.Filter(events.TypeReplicateCompleted)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	counts := map[events.Type]int{}
	for {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Event.Event.Extensions()[events.ExtensionRun] == runID {
			counts[r.Event.Type()]++
		}
		if r.Pending == 0 {
			break
		}
	}
	for _, ty := range []events.Type{events.TypeReplicateRequested, events.TypeReplicateStarted, events.TypeReplicateCompleted} {
		if counts[ty] != nVMs {
			t.Errorf("run %s events: %v, want %d of each of requested, started and completed", runID, counts, nVMs)
		}
	}
}

func (h *drHarness) failover(t *testing.T, vmUUID, copyUUID string) {
	t.Helper()
	ctx := context.Background()
	api := replicate.API()
	if len(api) != 1 || api[0].Query != events.QueryDRList.Endpoint {
		t.Fatalf("replicate answers %+v, want dr.ls", api)
	}
	out, err := api[0].Handle(ctx, h.env, json.RawMessage(`{"vm":"`+vmUUID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	listed := out.([]events.DRCopy)
	if len(listed) != 1 || listed[0].UUID != copyUUID || listed[0].State != events.DRStateStandby ||
		listed[0].Pool != "standby" || listed[0].AgeSeconds < 0 {
		t.Fatalf("dr.ls: %+v", listed)
	}
	st := h.ask(t, failovers.Params{VM: vmUUID, Start: true, Force: true, RequestedBy: "test"})
	if st.State != failovers.StateCompleted || st.Completed.CopyUUID != copyUUID || st.Completed.PowerState != "Running" {
		t.Errorf("failover: %+v %+v %+v", st, st.Completed, st.Failed)
	}
}

func TestRedeliveredWorkReturnsTheSameCompletedEvent(t *testing.T) {
	h := newDRHarness(t)
	vm := h.main.sourceVMs(t)[0]
	rec := workItem(t, h, vm.UUID)
	w := replicate.NewWorker(h.deps)
	var got []bus.Out
	for i := range 2 {
		outs, err := w.Handle(context.Background(), bus.Event{Received: rec, Delivery: bus.Delivery{Attempt: uint64(i + 1)}})
		if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeReplicateCompleted) {
			t.Fatalf("delivery %d: %v, %v", i+1, outs, err)
		}
		got = append(got, outs[0])
	}
	if got[0].Event.ID() != got[1].Event.ID() || string(got[0].Event.Data()) != string(got[1].Event.Data()) ||
		!got[0].Event.Time().Equal(got[1].Event.Time()) {
		t.Errorf("redelivery built another event:\n%s\n%s", got[0].Event, got[1].Event)
	}
	if n := h.main.sim.Requests()["/export"]; n != 1 {
		t.Errorf("%d exports for two deliveries, want 1", n)
	}
}

// TestLastDeliveryOfWorkReportsFailed: when the worker cannot do a VM's
// work (here the runs bucket is unreachable) it asks for a redelivery, but on
// the request's last delivery it reports replicate.failed, so the run goes
// on instead of waiting for ever for a dead-lettered VM.
func TestLastDeliveryOfWorkReportsFailed(t *testing.T) {
	h := newDRHarness(t)
	vm := h.main.sourceVMs(t)[0]
	rec := workItem(t, h, vm.UUID)
	_ = h.conn.Close() // the worker can no longer read the run
	w := replicate.NewWorker(h.deps)
	if outs, err := w.Handle(context.Background(), bus.Event{Received: rec, Delivery: bus.Delivery{Attempt: 1, Max: 10}}); err == nil || bus.IsPermanent(err) {
		t.Fatalf("first delivery: %v, %v; want an error for a redelivery", outs, err)
	}
	outs, err := w.Handle(context.Background(), bus.Event{Received: rec, Delivery: bus.Delivery{Attempt: 10, Max: 10}})
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeReplicateFailed) {
		t.Fatalf("last delivery: %v, %v; want replicate.failed", outs, err)
	}
	failed, err := events.PayloadAs[events.ReplicateFailed](testsupport.Deliver(t, outs[0], 1, 0).Received)
	if err != nil {
		t.Fatal(err)
	}
	if failed.RunID != "manual-1" || failed.VMUUID != vm.UUID || failed.Error == "" {
		t.Errorf("replicate.failed = %+v", failed)
	}
}

// TestWorkItemOfContract1: a replicate.started without attempt was the work
// item until events contract 2.0.0; one delivered before an upgrade and
// redelivered since is done as the request it was. A started with an
// attempt announces an attempt and is no work item.
func TestWorkItemOfContract1(t *testing.T) {
	h := newDRHarness(t)
	vm := h.main.sourceVMs(t)[0]
	legacy := events.ReplicateStarted{RunID: "manual-1", Job: "dr", Schedule: "hourly", VMUUID: vm.UUID,
		Pool: "main", TargetPool: "standby", TargetSR: "Local storage"}
	w := replicate.NewWorker(h.deps)
	outs, err := w.Handle(context.Background(), bus.Event{Received: received(t, h, legacy), Delivery: bus.Delivery{Attempt: 2}})
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeReplicateCompleted) {
		t.Fatalf("1.x work item: %v, %v; want replicate.completed", outs, err)
	}
	legacy.Attempt = 1
	_, err = w.Handle(context.Background(), bus.Event{Received: received(t, h, legacy), Delivery: bus.Delivery{Attempt: 1}})
	if !bus.IsPermanent(err) || !strings.Contains(err.Error(), "xbr.replicate.started is not a work item") {
		t.Errorf("a started with attempt: %v, want a permanent error saying it is not a work item", err)
	}
}

// workItem is a received replicate.requested of VM vmUUID for job dr.
func workItem(t *testing.T, h *drHarness, vmUUID string) events.Received {
	t.Helper()
	return received(t, h, events.ReplicateRequested{RunID: "manual-1", Job: "dr", Schedule: "hourly", FireTime: time.Now().UTC(),
		VMUUID: vmUUID, Pool: "main", TargetPool: "standby", TargetSR: "Local storage"})
}

// received is p as a consumer receives it.
func received(t *testing.T, h *drHarness, p events.Payload) events.Received {
	t.Helper()
	m, err := h.subjects.Message(events.Meta{ID: "w1", Source: events.Source("test"), Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	return testsupport.Deliver(t, m, 1, 0).Received
}
