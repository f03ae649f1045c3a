package replicate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/replicate"
	"xbr/shared/bus"
	"xbr/shared/failovers"
	"xbr/shared/xapi"
)

// replicateVM makes one standby copy of the main pool's VM in state ps.
func (h *drHarness) replicateVM(t *testing.T, ps xapi.PowerState) (xapi.VM, replicate.Copy) {
	t.Helper()
	for _, vm := range h.main.sourceVMs(t) {
		if vm.PowerState != ps {
			continue
		}
		spec := replicate.Spec{Job: "dr", Schedule: "hourly", VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}
		res, err := replicate.Replicate(context.Background(), h.main.client, h.standby.client, spec, replicate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return vm, res.Copy
	}
	t.Fatalf("no %s VM on the main pool", ps)
	return xapi.VM{}, replicate.Copy{}
}

// ask publishes a failover request and follows it to its outcome.
func (h *drHarness) ask(t *testing.T, p failovers.Params) failovers.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := failovers.Publish(ctx, h.conn, h.subjects, events.Source("test"), p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := failovers.Follow(ctx, h.conn, h.subjects, events.StreamNames{}, req.RequestID, nil)
	if err != nil {
		t.Fatalf("follow failover %s: %v", req.RequestID, err)
	}
	return st
}

func (h *drHarness) copyState(t *testing.T, cp replicate.Copy) (xapi.PowerState, bool) {
	t.Helper()
	rec, err := h.standby.client.VMRecord(context.Background(), cp.Ref)
	if err != nil {
		t.Fatal(err)
	}
	_, blocked := rec.BlockedOperations["start"]
	return rec.PowerState, blocked
}

// Finding 10: a failover while the source VM still runs is refused (split
// brain) unless forced. Before the fix the copy was unblocked and booted.
func TestFailoverRefusedWhileSourceRunsUnlessForced(t *testing.T) {
	h := newDRHarness(t)
	h.serve(t)
	vm, cp := h.replicateVM(t, xapi.Running)
	st := h.ask(t, failovers.Params{VM: vm.NameLabel, Start: true, RequestedBy: "cli:ops@admin1"})
	want := "source VM " + vm.NameLabel + " is still running on pool main; stop it or use --force"
	if st.State != failovers.StateFailed || !st.Refused() || st.Error() != want || st.Failed.SourcePool != "main" {
		t.Fatalf("failover while the source runs: %+v %+v, want refused: %s", st, st.Failed, want)
	}
	if power, blocked := h.copyState(t, cp); power != xapi.Halted || !blocked {
		t.Fatalf("a refused failover touched the copy: power %s, start blocked %v", power, blocked)
	}
	st = h.ask(t, failovers.Params{VM: vm.NameLabel, Start: true, Force: true, RequestedBy: "cli:ops@admin1"})
	c := st.Completed
	if st.State != failovers.StateCompleted || c.CopyUUID != cp.UUID || !c.Started || !c.Forced ||
		c.Source != events.SourceRunning || !strings.Contains(c.Note, "forced") {
		t.Fatalf("forced failover: %+v %+v", st, c)
	}
	if power, blocked := h.copyState(t, cp); power != xapi.Running || blocked {
		t.Fatalf("after the forced failover: power %s, start blocked %v", power, blocked)
	}
	checkAudit(t, h, "cli:ops@admin1")
}

// checkAudit: XBR_EVENTS holds the requests and both outcomes, each
// saying who asked.
func checkAudit(t *testing.T, h *drHarness, by string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := h.conn.Watch(ctx, bus.WatchOptions{Stream: events.DefaultEventsStream, Subjects: []string{
		h.subjects.Prefix() + ".failover.>"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	seen := map[events.Type]int{}
	for {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch p := r.Event.Payload.(type) {
		case events.FailoverRequested:
			seen[r.Event.Type()] += count(p.RequestedBy == by)
		case events.FailoverCompleted:
			seen[r.Event.Type()] += count(p.RequestedBy == by && r.Event.Event.Source() == events.Source(replicate.Name))
		case events.FailoverFailed:
			seen[r.Event.Type()] += count(p.RequestedBy == by && r.Event.Event.Source() == events.Source(replicate.Name))
		}
		if r.Pending == 0 {
			break
		}
	}
	if seen[events.TypeFailoverRequested] != 2 || seen[events.TypeFailoverFailed] != 1 || seen[events.TypeFailoverCompleted] != 1 {
		t.Errorf("XBR_EVENTS failover events by %s: %v, want 2 requested, 1 failed, 1 completed", by, seen)
	}
}

func count(ok bool) int {
	if ok {
		return 1
	}
	return 0
}

// The disaster case: the source pool does not answer, so the failover goes
// ahead and says so.
func TestFailoverProceedsWhenTheSourcePoolIsDown(t *testing.T) {
	h := newDRHarness(t)
	h.serve(t)
	vm, cp := h.replicateVM(t, xapi.Running)
	if err := h.main.sim.Close(); err != nil {
		t.Fatal(err)
	}
	st := h.ask(t, failovers.Params{VM: vm.UUID, RequestedBy: "webhook"})
	c := st.Completed
	if st.State != failovers.StateCompleted || c.CopyUUID != cp.UUID || c.Started || c.Forced ||
		c.Source != events.SourceUnreachable || c.SourcePool != "main" || !strings.Contains(c.Note, "source pool main did not answer") {
		t.Fatalf("failover with the source pool down: %+v %+v %+v", st, c, st.Failed)
	}
	if power, blocked := h.copyState(t, cp); power != xapi.Halted || blocked {
		t.Fatalf("after the failover: power %s, start blocked %v", power, blocked)
	}
	if st := h.ask(t, failovers.Params{VM: "no-such-vm"}); st.State != failovers.StateFailed || st.Refused() ||
		!strings.Contains(st.Error(), "no complete copy") {
		t.Fatalf("failover of an unknown VM: %+v %+v", st, st.Failed)
	}
}

// vmIn is a VM of the pool in state ps.
func (p *testPool) vmIn(t *testing.T, ps xapi.PowerState) xapi.VM {
	t.Helper()
	for _, vm := range p.sourceVMs(t) {
		if vm.PowerState == ps {
			return vm
		}
	}
	t.Fatalf("no %s VM on the pool", ps)
	return xapi.VM{}
}

// replicateAt makes a standby copy of vm at each recovery point, keeping
// them all, oldest first.
func (h *drHarness) replicateAt(t *testing.T, vm xapi.VM, points ...time.Time) []replicate.Copy {
	t.Helper()
	var out []replicate.Copy
	for i, at := range points {
		spec := replicate.Spec{RunID: fmt.Sprintf("run%d", i), Job: "dr", Schedule: "hourly", VMUUID: vm.UUID,
			TargetSR: "Local storage", CopyRetention: len(points)}
		res, err := replicate.Replicate(context.Background(), h.main.client, h.standby.client, spec,
			replicate.Options{Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Copy)
	}
	return out
}

// A copy that an earlier failover started is split brain as much as the
// source VM: failing over to another copy of the same VM is refused unless
// forced, and asking again for the running copy is harmless. Before the fix
// the older copy booted beside the running one.
func TestFailoverRefusedWhileAnotherCopyRunsUnlessForced(t *testing.T) {
	h := newDRHarness(t)
	h.serve(t)
	vm := h.main.vmIn(t, xapi.Halted)
	cps := h.replicateAt(t, vm, time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	older, latest := cps[0], cps[1]
	for i, wantStarted := range []bool{true, false} {
		st := h.ask(t, failovers.Params{VM: vm.UUID, Start: true, RequestedBy: "web", Key: fmt.Sprint(i)})
		if c := st.Completed; st.State != failovers.StateCompleted || c.CopyUUID != latest.UUID || c.Started != wantStarted {
			t.Fatalf("failover %d to the latest copy: %s %+v %+v", i+1, st.State, c, st.Failed)
		}
	}
	// The operator finds the latest point bad and asks for the older one.
	p := failovers.Params{VM: vm.UUID, Copy: failovers.CopyString(older.Datetime), Start: true, RequestedBy: "cli:ops@admin1"}
	st := h.ask(t, p)
	want := fmt.Sprintf("copy %s (%s) of VM %s is already running on pool standby; stop it or use --force",
		latest.Name, latest.UUID, vm.NameLabel)
	if st.State != failovers.StateFailed || !st.Refused() || st.Error() != want || st.Failed.CopyUUID != older.UUID {
		t.Fatalf("failover to the older copy while the latest runs: %s %+v %+v, want refused: %s", st.State, st.Completed, st.Failed, want)
	}
	if power, blocked := h.copyState(t, older); power != xapi.Halted || !blocked {
		t.Fatalf("a refused failover touched the older copy: power %s, start blocked %v", power, blocked)
	}
	p.Force = true
	st = h.ask(t, p)
	if c := st.Completed; st.State != failovers.StateCompleted || c.CopyUUID != older.UUID || !c.Started || !c.Forced ||
		c.Note != "forced: copy "+latest.Name+" ("+latest.UUID+") of VM "+vm.NameLabel+" is already running on pool standby" {
		t.Fatalf("forced failover to the older copy: %s %+v %+v", st.State, c, st.Failed)
	}
}
