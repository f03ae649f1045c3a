package healthcheck_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/healthcheck"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xotag"
)

// onePool serves one logged-in client as pool "lab".
type onePool struct{ c *xapi.Client }

func (p onePool) Names() []string { return []string{"lab"} }
func (p onePool) Client(context.Context, string) (*xapi.Client, error) {
	return p.c, nil
}

// TestSweep: a test VM whose mark is stale (or missing) is destroyed with
// its disks; one whose check renewed its mark, and any VM without the tag,
// are left alone.
func TestSweep(t *testing.T) {
	sim, err := xapisim.New(xapisim.Options{VMs: 4, DiskSize: 1 << 20, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(u)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	user, pass := sim.Credentials()
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	var vms []xapisim.VMInfo
	for _, vm := range sim.VMs() {
		if !vm.IsTemplate && !vm.IsSnapshot {
			vms = append(vms, vm)
		}
	}
	if len(vms) < 4 {
		t.Fatalf("%d VMs in the simulator, want 4", len(vms))
	}
	mark := func(vm xapisim.VMInfo, tag bool, alive time.Time) {
		ref := xapi.VMRef(vm.Ref)
		if tag {
			if err := c.AddTag(ctx, ref, xotag.TagHealthCheck); err != nil {
				t.Fatal(err)
			}
		}
		if !alive.IsZero() {
			if err := c.AddToOtherConfig(ctx, ref, xotag.KeyHealthCheckAlive, alive.Format(time.RFC3339)); err != nil {
				t.Fatal(err)
			}
		}
	}
	stale, noMark, live, untagged := vms[0], vms[1], vms[2], vms[3]
	mark(stale, true, now.Add(-time.Minute))
	mark(noMark, true, time.Time{})
	mark(live, true, now.Add(-2*time.Second))
	mark(untagged, false, now.Add(-time.Hour))
	vdis := len(sim.Refs("VDI"))
	h := healthcheck.New(onePool{c}, nil, nil, xapiSubjects(t), healthcheck.Options{Now: func() time.Time { return now }})
	before := sim.Calls()["VM.get_all_records"]
	swept := h.Sweep(ctx, "lab")
	if len(swept) != 2 || !slices.Contains(swept, stale.UUID) || !slices.Contains(swept, noMark.UUID) {
		t.Fatalf("swept %v, want the stale %s and the unmarked %s", swept, stale.UUID, noMark.UUID)
	}
	left := map[string]bool{}
	for _, vm := range sim.VMs() {
		left[vm.UUID] = true
	}
	if left[stale.UUID] || left[noMark.UUID] || !left[live.UUID] || !left[untagged.UUID] {
		t.Fatalf("VMs left %v", left)
	}
	if got, want := len(sim.Refs("VDI")), vdis-len(stale.VDIs)-len(noMark.VDIs); got != want {
		t.Fatalf("%d VDIs after the sweep, want %d: the swept VMs' disks stayed", got, want)
	}
	// Every check sweeps: it reads the client's view of the pool (the
	// changes since the last question), not every VM record of the pool.
	if again := h.Sweep(ctx, "lab"); len(again) != 0 {
		t.Fatalf("a second sweep destroyed %v", again)
	}
	if n := sim.Calls()["VM.get_all_records"] - before; n != 0 {
		t.Fatalf("two sweeps called VM.get_all_records %d times: each check costs the whole pool", n)
	}
}

func xapiSubjects(t *testing.T) events.Subjects {
	t.Helper()
	s, err := events.NewSubjects("")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a time the test moves; safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// heldStart holds every Async.VM.start until release is closed, as a start
// that takes minutes on a real host (a big memory, a slow SR); the
// simulator's starts are instant. inFlight is closed when one arrives.
type heldStart struct {
	inFlight, release chan struct{}
	once              *sync.Once
}

func (h heldStart) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte("<methodName>Async.VM.start<")) {
			h.once.Do(func() { close(h.inFlight) })
			<-h.release
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestSweepSparesACheckWhoseStartIsSlow: while VM.start of a check's test
// VM runs longer than StaleAfter, the check keeps renewing its mark, so a
// sweep then leaves the VM alone and a guest that boots is reported
// completed (not boot-failed because the sweep destroyed it mid-start).
func TestSweepSparesACheckWhoseStartIsSlow(t *testing.T) {
	sim, u, plain := testsupport.StartSim(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20, DataDir: t.TempDir(), BootDelay: 50 * time.Millisecond})
	hold := heldStart{inFlight: make(chan struct{}), release: make(chan struct{}), once: &sync.Once{}}
	released := sync.OnceFunc(func() { close(hold.release) })
	t.Cleanup(released)
	c, err := xapi.New(u, xapi.WithHTTPClient(&http.Client{Transport: hold}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	user, pass := sim.Credentials()
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	var src xapisim.VMInfo
	for _, vm := range sim.VMs() {
		if !vm.IsTemplate && !vm.IsSnapshot && vm.PowerState == "Halted" {
			src = vm
		}
	}
	conn := testsupport.StartNATS(t)
	pending, err := healthcheck.EnsurePending(ctx, conn, 1)
	if err != nil {
		t.Fatal(err)
	}
	now := &clock{t: time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)}
	const staleAfter = 15 * time.Second
	h := healthcheck.New(onePool{c}, conn, pending, xapiSubjects(t), healthcheck.Options{Now: now.Now,
		Poll: 10 * time.Millisecond, AliveEvery: 10 * time.Millisecond, StaleAfter: staleAfter})
	req := events.HealthCheckRequested{RequestID: events.NewHealthCheckID("healthcheck", "replica:"+src.UUID),
		BackupID: "replica:" + src.UUID, CopyUUID: src.UUID, VMUUID: src.UUID, Pool: "lab", SR: "Local storage",
		Method: events.HealthMethodGuestMetrics, TimeoutMS: 10000}
	type result struct {
		outs []bus.Out
		err  error
	}
	done := make(chan result, 1)
	go func() {
		outs, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: req}})
		done <- result{outs, err}
	}()
	select {
	case <-hold.inFlight:
	case r := <-done:
		t.Fatalf("the check ended before its VM.start: %v %v", r.outs, r.err)
	case <-ctx.Done():
		t.Fatal("no VM.start")
	}

	now.Add(2 * staleAfter) // the start has run for longer than StaleAfter
	mark := now.Now().UTC().Format(time.RFC3339)
	testsupport.Eventually(t, 5*time.Second, "the check to renew its test VM's mark while VM.start runs", func() bool {
		vm, ok := testVM(t, plain, req.RequestID)
		return ok && vm.OtherConfig[xotag.KeyHealthCheckAlive] == mark
	})
	if swept := h.Sweep(ctx, "lab"); len(swept) != 0 {
		t.Fatalf("the sweep destroyed %v, the test VM of a check whose VM.start runs", swept)
	}
	released()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.outs) != 1 || r.outs[0].Event.Type() != string(events.TypeHealthCheckCompleted) {
		t.Fatalf("a guest that boots after a slow start: %v, want %s", r.outs, events.TypeHealthCheckCompleted)
	}
	if vm, ok := testVM(t, plain, req.RequestID); ok {
		t.Fatalf("the test VM %s is left after its check", vm.UUID)
	}
}

// testVM reads the test VM of the check request from the pool.
func testVM(t *testing.T, c *xapi.Client, request string) (xapi.VM, bool) {
	t.Helper()
	vms, err := c.VMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, vm := range vms {
		if vm.OtherConfig[healthcheck.KeyRequest] == request {
			return vm, true
		}
	}
	return xapi.VM{}, false
}
