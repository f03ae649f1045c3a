package runs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/runs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// server starts an embedded NATS server and returns its URL.
func server(t *testing.T) string {
	t.Helper()
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, Host: "127.0.0.1", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv.ClientURL()
}

// coordinator connects to url and opens the runs bucket, as one replica does.
func coordinator(t *testing.T, url string, clk *clock) *runs.Coordinator {
	t.Helper()
	conn, err := bus.Connect(url, bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c, err := runs.New(context.Background(), conn, runs.Options{Now: clk.Now, StaleAfter: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setup(t *testing.T) (*runs.Coordinator, *clock) {
	clk := &clock{t: time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)}
	return coordinator(t, server(t), clk), clk
}

func fire(run, overlap string) runs.Fire {
	return runs.Fire{RunID: run, Job: "nightly", Schedule: "daily", Mode: events.ModeFull,
		FireTime: time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC), OnOverlap: overlap}
}

func vms(n int) []runs.VM {
	out := make([]runs.VM, n)
	for i := range out {
		out[i] = runs.VM{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("vm%d", i), Pool: "lab"}
	}
	return out
}

func ok(uuid string) events.VMResult {
	return events.VMResult{VMUUID: uuid, Status: events.StatusSuccess}
}

func mustAdmit(t *testing.T, c *runs.Coordinator, f runs.Fire) runs.Admission {
	t.Helper()
	a, err := c.Admit(context.Background(), f)
	if err != nil {
		t.Fatalf("Admit %s: %v", f.RunID, err)
	}
	return a
}

func mustStart(t *testing.T, c *runs.Coordinator, f runs.Fire, conc int, v []runs.VM) runs.Run {
	t.Helper()
	if a := mustAdmit(t, c, f); a.Run != nil {
		t.Fatalf("fire %s was not admitted: %+v", f.RunID, a.Run)
	}
	r, err := c.Start(context.Background(), f, conc, v)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func finish(t *testing.T, c *runs.Coordinator, run string, res events.VMResult) runs.Step {
	t.Helper()
	s, err := c.Finish(context.Background(), run, res)
	if err != nil {
		t.Fatalf("Finish %s: %v", res.VMUUID, err)
	}
	return s
}

func TestOverlapSkip(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	r1 := mustStart(t, c, fire("r1", runs.OverlapSkip), 2, vms(2))
	a := mustAdmit(t, c, fire("r2", runs.OverlapSkip))
	if a.Run == nil || a.Run.Status != events.StatusSkipped || a.Run.Reason != "already running (run r1)" {
		t.Fatalf("second fire: %+v, want skipped: already running (run r1)", a.Run)
	}
	if p := a.Run.CompletedEvent(); p.Validate() != nil || p.Status != events.StatusSkipped {
		t.Errorf("skipped run.completed %+v: %v", p, p.Validate())
	}
	for _, v := range r1.VMs {
		finish(t, c, "r1", ok(v.UUID))
	}
	// The decision is recorded: redelivering the skipped fire still skips it,
	// even now that the job is free.
	if again := mustAdmit(t, c, fire("r2", runs.OverlapSkip)); again.Run == nil || again.Run.Status != events.StatusSkipped {
		t.Fatalf("redelivered skipped fire: %+v", again.Run)
	}
	if h, _ := c.Holder(ctx, "nightly"); h != "" {
		t.Errorf("lock held by %q after r1 ended", h)
	}
}

func TestOverlapQueue(t *testing.T) {
	c, _ := setup(t)
	r1 := mustStart(t, c, fire("r1", runs.OverlapQueue), 1, vms(2))
	_, err := c.Admit(context.Background(), fire("r2", runs.OverlapQueue))
	var busy *runs.BusyError
	if !errors.As(err, &busy) || busy.Holder != "r1" {
		t.Fatalf("queued fire while r1 runs: %v, want a BusyError naming r1", err)
	}
	finish(t, c, "r1", ok(r1.VMs[0].UUID))
	if _, err := c.Admit(context.Background(), fire("r2", runs.OverlapQueue)); !errors.As(err, &busy) {
		t.Fatalf("queued fire while r1 still has a VM: %v", err)
	}
	if s := finish(t, c, "r1", ok(r1.VMs[1].UUID)); !s.Done || s.Run.Status != events.StatusSuccess {
		t.Fatalf("last VM of r1: %+v", s)
	}
	r2 := mustStart(t, c, fire("r2", runs.OverlapQueue), 1, vms(1))
	if r2.State != runs.StateRunning {
		t.Fatalf("r2 after r1 ended: %+v", r2)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	c, _ := setup(t)
	const n, conc = 7, 2
	r := mustStart(t, c, fire("r1", ""), conc, vms(n))
	active := map[string]bool{}
	for _, v := range r.Initial() {
		active[v.UUID] = true
	}
	if len(active) != conc {
		t.Fatalf("%d VMs started, want %d", len(active), conc)
	}
	var order []string
	for len(active) > 0 {
		var next string
		for u := range active {
			next = u
			break
		}
		delete(active, next)
		order = append(order, next)
		res := ok(next)
		if len(order) == 3 {
			res = events.VMResult{VMUUID: next, Status: events.StatusFailure, Error: "boom"}
		}
		s := finish(t, c, "r1", res)
		for _, v := range s.Released {
			if active[v.UUID] {
				t.Fatalf("VM %s released twice", v.UUID)
			}
			active[v.UUID] = true
		}
		if len(active) > conc {
			t.Fatalf("%d VMs active at once, limit %d", len(active), conc)
		}
		if s.Done != (len(order) == n) {
			t.Fatalf("after %d of %d VMs: Done=%v", len(order), n, s.Done)
		}
		if s.Done && s.Run.Status != events.StatusPartial {
			t.Fatalf("status %s, want partial", s.Run.Status)
		}
	}
	if len(order) != n {
		t.Fatalf("%d VMs ran, want %d", len(order), n)
	}
}

// TestConcurrentCompletions finishes every VM at once from two replicas (two
// connections): no result is lost, every queued VM is released exactly
// once, and exactly one completion ends the run.
func TestConcurrentCompletions(t *testing.T) {
	url, clk := server(t), &clock{t: time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)}
	a, b := coordinator(t, url, clk), coordinator(t, url, clk)
	const n, conc = 24, 24
	r := mustStart(t, a, fire("r1", ""), conc, vms(n))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		dones int
	)
	for i, v := range r.VMs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := []*runs.Coordinator{a, b}[i%2]
			s, err := c.Finish(context.Background(), "r1", ok(v.UUID))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if s.Done {
				dones++
			}
		}()
	}
	wg.Wait()
	final, err := a.Get(context.Background(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !final.Done() || final.Status != events.StatusSuccess || dones != 1 {
		t.Fatalf("run %s/%s, %d completions saw the end; want done/success and exactly 1", final.State, final.Status, dones)
	}
	for _, v := range final.VMs {
		if v.Result == nil || v.State != runs.VMDone {
			t.Errorf("VM %s lost its result: %+v", v.UUID, v)
		}
	}
}

// TestConcurrentCompletionsWithQueue: with fewer slots than VMs, concurrent
// completions release every queued VM exactly once.
func TestConcurrentCompletionsWithQueue(t *testing.T) {
	url, clk := server(t), &clock{t: time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)}
	a, b := coordinator(t, url, clk), coordinator(t, url, clk)
	const n, conc = 12, 4
	r := mustStart(t, a, fire("r1", ""), conc, vms(n))
	released, _ := drainRun(t, r, conc, func(w int, u string) (runs.Step, bool) {
		s, err := []*runs.Coordinator{a, b}[w%2].Finish(context.Background(), "r1", ok(u))
		if err != nil {
			t.Error(err)
			return runs.Step{}, false
		}
		return s, true
	})
	if want := queuedVMs(r); !reflect.DeepEqual(released, want) {
		t.Fatalf("released %v, want each queued VM once: %v", released, want)
	}
}

// drainRun plays run r with conc workers: each takes a VM off the work
// queue and ends it with end (the worker's index, the VM's uuid), queues the
// VMs the end released, and closes the queue at the end that finished the
// run; a false from end stops that worker. It returns the released VMs,
// sorted, and the VMs whose end finished the run.
func drainRun(t *testing.T, r runs.Run, conc int, end func(w int, u string) (runs.Step, bool)) (released, enders []string) {
	t.Helper()
	work := make(chan string, len(r.VMs))
	for _, v := range r.Initial() {
		work <- v.UUID
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for w := range conc {
		wg.Go(func() {
			for u := range work {
				s, ok := end(w, u)
				if !ok {
					return
				}
				mu.Lock()
				for _, v := range s.Released {
					released = append(released, v.UUID)
					work <- v.UUID
				}
				if s.Done {
					enders = append(enders, u)
					close(work)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Strings(released)
	return released, enders
}

// queuedVMs are the VMs of r that waited for a slot, sorted.
func queuedVMs(r runs.Run) []string {
	var want []string
	for _, v := range r.VMs {
		if v.State == runs.VMQueued {
			want = append(want, v.UUID)
		}
	}
	sort.Strings(want)
	return want
}

// TestRedelivery: repeating Start, Finish and Admit returns the recorded
// decisions, so follow-ups derived from them are the same.
func TestRedelivery(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	f := fire("r1", "")
	r := mustStart(t, c, f, 1, vms(3))
	again, err := c.Start(ctx, f, 1, vms(3))
	if err != nil || !reflect.DeepEqual(again.Initial(), r.Initial()) {
		t.Fatalf("Start again: %v %+v, want %+v", err, again.Initial(), r.Initial())
	}
	first := finish(t, c, "r1", ok(r.VMs[0].UUID))
	second := finish(t, c, "r1", events.VMResult{VMUUID: r.VMs[0].UUID, Status: events.StatusFailure, Error: "late copy"})
	if !reflect.DeepEqual(first.Released, second.Released) || len(first.Released) != 1 {
		t.Fatalf("repeated Finish released %+v then %+v", first.Released, second.Released)
	}
	if v, _ := second.Run.VM(r.VMs[0].UUID); v.Result.Status != events.StatusSuccess {
		t.Errorf("a repeated Finish overwrote the result: %+v", v.Result)
	}
	if a := mustAdmit(t, c, f); a.Run == nil || a.Run.ID != "r1" || a.Run.Done() {
		t.Fatalf("redelivered fire of a running run: %+v", a.Run)
	}
	finish(t, c, "r1", ok(r.VMs[1].UUID))
	last := finish(t, c, "r1", ok(r.VMs[2].UUID))
	replay := finish(t, c, "r1", ok(r.VMs[2].UUID))
	if !last.Done || !replay.Done || !reflect.DeepEqual(last.Run.CompletedEvent(), replay.Run.CompletedEvent()) {
		t.Fatalf("repeated last Finish: %+v vs %+v", last, replay)
	}
	if _, err := c.Finish(ctx, "nope", ok(r.VMs[0].UUID)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Finish of an unknown run: %v, want ErrNotFound", err)
	}
}

func TestNothingSelectedEndsAtOnce(t *testing.T) {
	c, _ := setup(t)
	r := mustStart(t, c, fire("r1", ""), 2, nil)
	if !r.Done() || r.Status != events.StatusSkipped || r.Reason != "no VM selected" {
		t.Fatalf("empty run: %+v", r)
	}
	if h, _ := c.Holder(context.Background(), "nightly"); h != "" {
		t.Fatalf("lock still held by %q", h)
	}
	planned := []runs.VM{{UUID: vms(1)[0].UUID, Pool: "lab", Result: &events.VMResult{VMUUID: vms(1)[0].UUID, Status: events.StatusFailure, Error: "not found"}}}
	r = mustStart(t, c, fire("r2", ""), 2, planned)
	if !r.Done() || r.Status != events.StatusFailure || len(r.Initial()) != 0 {
		t.Fatalf("run of only rejected VMs: %+v", r)
	}
}

// TestStaleLock: a run that stops renewing its lock (its process is gone)
// blocks the job for StaleAfter at most; the next fire ends it as
// interrupted, and its late results are ignored.
func TestStaleLock(t *testing.T) {
	c, clk := setup(t)
	ctx := context.Background()
	r1 := mustStart(t, c, fire("r1", ""), 1, vms(2))
	clk.Add(8 * time.Minute)
	if err := c.Touch(ctx, "nightly", "r1"); err != nil {
		t.Fatal(err)
	}
	clk.Add(8 * time.Minute) // 16 min since start, 8 since the renewal
	if a := mustAdmit(t, c, fire("r2", "")); a.Run == nil || a.Run.Status != events.StatusSkipped {
		t.Fatalf("a renewed lock was taken over: %+v", a)
	}
	clk.Add(3 * time.Minute) // 11 min without renewal
	a := mustAdmit(t, c, fire("r3", ""))
	if a.Run != nil || a.Interrupted == nil || a.Interrupted.ID != "r1" || a.Interrupted.Status != events.StatusInterrupted {
		t.Fatalf("stale lock: %+v", a)
	}
	if p := a.Interrupted.CompletedEvent(); p.Validate() != nil || p.Results[0].Status != events.StatusInterrupted {
		t.Errorf("interrupted run.completed %+v: %v", p, p.Validate())
	}
	if err := c.Touch(ctx, "nightly", "r1"); !errors.Is(err, runs.ErrNotHolder) {
		t.Errorf("Touch by the interrupted run: %v, want ErrNotHolder", err)
	}
	if s := finish(t, c, "r1", ok(r1.VMs[0].UUID)); !s.Late || len(s.Released) != 0 {
		t.Errorf("late result of an interrupted run: %+v", s)
	}
	if h, _ := c.Holder(ctx, "nightly"); h != "r3" {
		t.Errorf("holder %q, want r3", h)
	}
}

func TestNamesNeedingEncoding(t *testing.T) {
	c, _ := setup(t)
	f := fire("run with spaces/and.dots", "")
	f.Job = "nächtlich backup"
	r := mustStart(t, c, f, 1, vms(1))
	got, err := c.Get(context.Background(), f.RunID)
	if err != nil || got.Job != f.Job || got.ID != r.ID {
		t.Fatalf("Get: %v %+v", err, got)
	}
	if h, _ := c.Holder(context.Background(), f.Job); h != f.RunID {
		t.Fatalf("holder %q", h)
	}
}
