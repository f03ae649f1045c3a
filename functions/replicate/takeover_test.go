package replicate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestReplicateTakenOverStops: the worker's host is suspended for 40
// minutes while it streams a VM to the standby pool (an 8 KiB XVA at 2 KiB/s);
// as it resumes, the job's next fire takes the stale lock over and starts
// its own replication of the job. The old run must stop at its next
// renewal, make no copy beside the new run's (nor prune the standby
// copies), and say it failed and why.
func TestReplicateTakenOverStops(t *testing.T) {
	ctx := context.Background()
	h := newDRHarness(t)
	fire := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	clk := testsupport.NewStepClock(fire)
	coord, err := runs.New(ctx, h.conn, runs.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.deps.Runs, h.deps.Now = coord, clk.Now
	// The worker renews from a ticker (runs.Tick): one slower than the test's
	// steps, so the next fire comes while the worker is still "suspended",
	// before its first tick after the jump, as it does on a real host.
	h.deps.ProgressEvery = 250 * time.Millisecond
	h.main.sim.SetFaults(xapisim.Faults{RateLimit: 2 << 10})
	h.serve(t)
	w, err := h.conn.Watch(ctx, bus.WatchOptions{Subjects: []string{h.subjects.Filter(events.TypeReplicateCompleted),
		h.subjects.Filter(events.TypeReplicateFailed)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	m, err := h.subjects.Message(events.Meta{ID: "run-1", Source: events.Source("test"), Time: fire},
		events.ScheduleDue{RunID: "run-1", Job: "dr", Schedule: "hourly", Mode: events.ModeReplicate, FireTime: fire})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.conn.Publish(ctx, m.Subject, m.Event); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, 30*time.Second, "the VM to stream", func() bool { return h.main.sim.Requests()["/export"] > 0 })
	clk.Add(40 * time.Minute)
	adm, err := coord.Admit(ctx, runs.Fire{RunID: "next-fire", Job: "dr", Schedule: "hourly", Mode: events.ModeReplicate,
		FireTime: clk.Now(), Delivery: 1})
	if err != nil || adm.Interrupted == nil || adm.Interrupted.ID != "run-1" {
		t.Fatalf("the next fire after a 40-minute suspend: %+v %v; want run-1 taken over", adm, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := w.Next(wctx)
	if err != nil {
		t.Fatalf("waiting for the VM's end: %v", err)
	}
	p, ok := r.Event.Payload.(events.ReplicateFailed)
	if !ok || !strings.Contains(p.Error, "taken over") {
		t.Fatalf("the run taken over reported %s %+v; want it failed, saying its lock was taken over", r.Event.Type(), r.Event.Payload)
	}
	if cs := h.standby.copiesOf(t, p.VMUUID); len(cs) != 0 {
		t.Fatalf("the run taken over made copies %+v; want none", cs)
	}
}
