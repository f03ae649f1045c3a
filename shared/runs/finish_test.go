package runs_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/runs"
)

// TestEndAfterCrashBetweenWrites: a worker that crashed after counting a
// VM's end in the header, before writing it on the VM's record, gets the
// same ordinal when the end is redelivered: the VM is counted once, the
// same VM is released, and the run ends exactly once.
func TestEndAfterCrashBetweenWrites(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	r := mustStart(t, c, fire("r1", ""), 1, vms(3))
	u := func(i int) string { return r.VMs[i].UUID }
	if err := c.CountEndOnly(ctx, "r1", ok(u(0))); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.GetVM(ctx, "r1", u(0)); len(v.VMs) != 1 || v.VMs[0].State != runs.VMDone {
		t.Fatalf("a counted end is not seen: %+v", v.VMs)
	}
	first := finish(t, c, "r1", ok(u(0)))
	again := finish(t, c, "r1", ok(u(0)))
	if len(first.Released) != 1 || first.Released[0].UUID != u(1) || !reflect.DeepEqual(first.Released, again.Released) {
		t.Fatalf("redelivered end released %+v then %+v, want %s", first.Released, again.Released, u(1))
	}
	if first.Done {
		t.Fatal("the run ended after its first VM: the end was counted twice")
	}
	finish(t, c, "r1", ok(u(1)))
	// The last VM's worker crashes after ending the run in the header.
	if err := c.CountEndOnly(ctx, "r1", events.VMResult{VMUUID: u(2), Status: events.StatusFailure, Error: "x"}); err != nil {
		t.Fatal(err)
	}
	last := finish(t, c, "r1", ok(u(2)))
	replay := finish(t, c, "r1", ok(u(2)))
	if !last.Done || !replay.Done || last.Run.Status != events.StatusPartial {
		t.Fatalf("redelivered last end: done %v/%v, status %s; want done, partial", last.Done, replay.Done, last.Run.Status)
	}
	for _, v := range last.Run.VMs {
		if v.State != runs.VMDone || v.Result == nil {
			t.Errorf("VM %s of the ended run: %+v", v.UUID, v)
		}
	}
	if h, _ := c.Holder(ctx, "nightly"); h != "" {
		t.Errorf("lock still held by %q", h)
	}
}

// TestDuplicateEndsAtOnce delivers each VM's end three times at once, over
// two replicas: every duplicate returns the same step, each queued VM is
// released once, and only the last VM's deliveries see the end.
func TestDuplicateEndsAtOnce(t *testing.T) {
	url, clk := server(t), &clock{t: time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)}
	a, b := coordinator(t, url, clk), coordinator(t, url, clk)
	const n, conc, copies = 12, 3, 3
	r := mustStart(t, a, fire("r1", ""), conc, vms(n))
	var mu sync.Mutex
	released, enders := drainRun(t, r, conc, func(w int, u string) (runs.Step, bool) {
		steps := finishCopies(t, []*runs.Coordinator{a, b}, w, "r1", u, copies)
		mu.Lock()
		defer mu.Unlock()
		for _, s := range steps[1:] {
			if !reflect.DeepEqual(s.Released, steps[0].Released) || s.Done != steps[0].Done {
				t.Errorf("duplicates of %s disagree: %+v vs %+v", u, s, steps[0])
			}
		}
		return steps[0], true
	})
	if want := queuedVMs(r); !reflect.DeepEqual(released, want) || len(enders) != 1 {
		t.Fatalf("released %v (want each queued VM once: %v); %d VMs saw the end, want 1", released, want, len(enders))
	}
	final, err := b.Get(context.Background(), "r1")
	if err != nil || final.Status != events.StatusSuccess {
		t.Fatalf("final run: %v %+v", err, final)
	}
}

// finishCopies delivers the end of VM u copies times at once.
func finishCopies(t *testing.T, cs []*runs.Coordinator, w int, run, u string, copies int) []runs.Step {
	steps := make([]runs.Step, copies)
	var wg sync.WaitGroup
	for k := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := cs[(w+k)%len(cs)].Finish(context.Background(), run, ok(u))
			if err != nil {
				t.Error(err)
			}
			steps[k] = s
		}()
	}
	wg.Wait()
	return steps
}

// TestHeaderFlatInVMs: what each VM's end reads and rewrites does not grow
// with the number of VMs of the run.
func TestHeaderFlatInVMs(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	size := map[int]int{}
	for _, n := range []int{10, 1000} {
		f := fire("r"+string(rune('a'+len(size))), "")
		f.Job = f.RunID
		r := mustStart(t, c, f, 8, vms(n))
		for _, v := range r.Initial()[:5] {
			finish(t, c, f.RunID, ok(v.UUID))
			rec, err := c.RecordAttempt(ctx, f.RunID, v.UUID, "20240301T020000Z")
			if err != nil || len(rec.VMs) != 1 {
				t.Fatalf("RecordAttempt: %v %+v", err, rec.VMs)
			}
		}
		var err error
		if size[n], err = c.HeaderSize(ctx, f.RunID); err != nil {
			t.Fatal(err)
		}
	}
	if size[1000] > size[10]+8 {
		t.Fatalf("header of a 1,000-VM run is %d bytes, of a 10-VM run %d: it grows with the VMs", size[1000], size[10])
	}
}

// TestGetVM returns the run with the one VM asked for, in its state.
func TestGetVM(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	r := mustStart(t, c, fire("r1", ""), 1, vms(3))
	finish(t, c, "r1", ok(r.VMs[0].UUID))
	want := map[string]string{r.VMs[0].UUID: runs.VMDone, r.VMs[1].UUID: runs.VMActive, r.VMs[2].UUID: runs.VMQueued}
	for u, state := range want {
		got, err := c.GetVM(ctx, "r1", u)
		if err != nil || got.ID != "r1" || len(got.VMs) != 1 || got.VMs[0].UUID != u || got.VMs[0].State != state {
			t.Errorf("GetVM %s: %v %+v, want state %s", u, err, got.VMs, state)
		}
	}
	if got, err := c.GetVM(ctx, "r1", "not-a-vm"); err != nil || len(got.VMs) != 0 || got.Job != "nightly" {
		t.Errorf("GetVM of a VM not in the run: %v %+v", err, got)
	}
}
