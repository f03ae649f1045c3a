package healthcheck_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// its disks; one whose check renewed its mark (on either key, or on the one
// key an earlier version wrote), and any VM without the tag, are left alone.
func TestSweep(t *testing.T) {
	sim, err := xapisim.New(xapisim.Options{VMs: 6, DiskSize: 1 << 20, DataDir: t.TempDir()})
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
	if len(vms) < 6 {
		t.Fatalf("%d VMs in the simulator, want 6", len(vms))
	}
	mark := func(vm xapisim.VMInfo, tag bool, alive, alt time.Time) {
		ref := xapi.VMRef(vm.Ref)
		if tag {
			if err := c.AddTag(ctx, ref, xotag.TagHealthCheck); err != nil {
				t.Fatal(err)
			}
		}
		for k, at := range map[string]time.Time{xotag.KeyHealthCheckAlive: alive, xotag.KeyHealthCheckAliveAlt: alt} {
			if at.IsZero() {
				continue
			}
			if err := c.AddToOtherConfig(ctx, ref, k, at.Format(time.RFC3339)); err != nil {
				t.Fatal(err)
			}
		}
	}
	stale, noMark, live, liveAlt, untagged, bothStale := vms[0], vms[1], vms[2], vms[3], vms[4], vms[5]
	mark(stale, true, now.Add(-time.Minute), time.Time{})
	mark(noMark, true, time.Time{}, time.Time{})
	mark(live, true, now.Add(-2*time.Second), time.Time{}) // an earlier version's mark
	mark(liveAlt, true, now.Add(-time.Minute), now.Add(-2*time.Second))
	mark(untagged, false, now.Add(-time.Hour), time.Time{})
	mark(bothStale, true, now.Add(-time.Minute), now.Add(-time.Minute))
	vdis := len(sim.Refs("VDI"))
	h := healthcheck.New(onePool{c}, nil, nil, xapiSubjects(t), healthcheck.Options{Now: func() time.Time { return now }})
	before := sim.Calls()["VM.get_all_records"]
	swept := h.Sweep(ctx, "lab")
	slices.Sort(swept)
	want := []string{stale.UUID, noMark.UUID, bothStale.UUID}
	slices.Sort(want)
	if !slices.Equal(swept, want) {
		t.Fatalf("swept %v, want the stale %s, the unmarked %s and the stale on both keys %s", swept, stale.UUID, noMark.UUID, bothStale.UUID)
	}
	left := map[string]bool{}
	for _, vm := range sim.VMs() {
		left[vm.UUID] = true
	}
	if left[stale.UUID] || left[noMark.UUID] || left[bothStale.UUID] || !left[live.UUID] || !left[liveAlt.UUID] || !left[untagged.UUID] {
		t.Fatalf("VMs left %v", left)
	}
	if got, want := len(sim.Refs("VDI")), vdis-len(stale.VDIs)-len(noMark.VDIs)-len(bothStale.VDIs); got != want {
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

// held holds every request whose XML-RPC body match accepts until release
// is closed, as a call that a real host answers late (a VM.start of a big
// VM); the simulator answers at once, and cannot stop between two calls on
// cue. inFlight is closed when the first one arrives. Other requests go to
// next.
type held struct {
	match             func(body []byte) bool
	inFlight, release chan struct{}
	once              *sync.Once
	next              http.RoundTripper
}

func hold(match func([]byte) bool, next http.RoundTripper) held {
	return held{match: match, inFlight: make(chan struct{}), release: make(chan struct{}), once: &sync.Once{}, next: next}
}

func (h held) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if h.match(b) {
			h.once.Do(func() { close(h.inFlight) })
			select { // as a stuck server's answer: the client gives up when its context ends
			case <-h.release:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
	}
	return h.next.RoundTrip(r)
}

func isMethod(name string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte("<methodName>"+name+"<")) }
}

// runningCheck is a check of a standby copy on the simulator, running in
// the background under a handler whose clock the test moves.
type runningCheck struct {
	h     *healthcheck.Handler
	req   events.HealthCheckRequested
	now   *clock
	plain *xapi.Client // the simulator through no held transport
	done  chan checkResult
}

type checkResult struct {
	outs []bus.Out
	err  error
}

const testStaleAfter = 15 * time.Second

// startCheck starts a check whose client goes through wrap(an HTTP transport).
func startCheck(t *testing.T, ctx context.Context, wrap func(http.RoundTripper) http.RoundTripper) runningCheck {
	t.Helper()
	return startCheckTimeout(t, ctx, wrap, 10000)
}

// startCheckTimeout is startCheck with the check's timeout in milliseconds.
func startCheckTimeout(t *testing.T, ctx context.Context, wrap func(http.RoundTripper) http.RoundTripper, timeoutMS int64) runningCheck {
	t.Helper()
	sim, u, plain := testsupport.StartSim(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20, DataDir: t.TempDir(), BootDelay: 50 * time.Millisecond})
	c, err := xapi.New(u, xapi.WithHTTPClient(&http.Client{Transport: wrap(http.DefaultTransport)}))
	if err != nil {
		t.Fatal(err)
	}
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
	rc := runningCheck{now: &clock{t: time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)}, plain: plain, done: make(chan checkResult, 1)}
	rc.h = healthcheck.New(onePool{c}, conn, pending, xapiSubjects(t), healthcheck.Options{Now: rc.now.Now,
		Poll: 10 * time.Millisecond, AliveEvery: 10 * time.Millisecond, StaleAfter: testStaleAfter})
	rc.req = events.HealthCheckRequested{RequestID: events.NewHealthCheckID("healthcheck", "replica:"+src.UUID),
		BackupID: "replica:" + src.UUID, CopyUUID: src.UUID, VMUUID: src.UUID, Pool: "lab", SR: "Local storage",
		Method: events.HealthMethodGuestMetrics, TimeoutMS: timeoutMS}
	go func() {
		outs, err := rc.h.Handle(ctx, bus.Event{Received: events.Received{Payload: rc.req}})
		rc.done <- checkResult{outs, err}
	}()
	return rc
}

// waitFor waits until the held call arrives; the check must not end first.
func (rc runningCheck) waitFor(t *testing.T, ctx context.Context, call held, what string) {
	t.Helper()
	select {
	case <-call.inFlight:
	case r := <-rc.done:
		t.Fatalf("the check ended before %s: %v %v", what, r.outs, r.err)
	case <-ctx.Done():
		t.Fatalf("no %s", what)
	}
}

// completed expects the check to end with a completed outcome and no test VM left.
func (rc runningCheck) completed(t *testing.T) {
	t.Helper()
	r := <-rc.done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.outs) != 1 || r.outs[0].Event.Type() != string(events.TypeHealthCheckCompleted) {
		t.Fatalf("a guest that boots: %v, want %s", r.outs, events.TypeHealthCheckCompleted)
	}
	if vm, ok := testVM(t, rc.plain, rc.req.RequestID); ok {
		t.Fatalf("the test VM %s is left after its check", vm.UUID)
	}
}

// TestSweepSparesACheckWhoseStartIsSlow: while VM.start of a check's test
// VM runs longer than StaleAfter, the check keeps renewing its mark, so a
// sweep then leaves the VM alone and a guest that boots is reported
// completed (not boot-failed because the sweep destroyed it mid-start).
func TestSweepSparesACheckWhoseStartIsSlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var start held
	rc := startCheck(t, ctx, func(next http.RoundTripper) http.RoundTripper {
		start = hold(isMethod("Async.VM.start"), next)
		return start
	})
	released := sync.OnceFunc(func() { close(start.release) })
	t.Cleanup(released)
	rc.waitFor(t, ctx, start, "VM.start")

	rc.now.Add(2 * testStaleAfter) // the start has run for longer than StaleAfter
	mark := rc.now.Now().UTC().Format(time.RFC3339)
	testsupport.Eventually(t, 5*time.Second, "the check to renew its test VM's mark while VM.start runs", func() bool {
		vm, ok := testVM(t, rc.plain, rc.req.RequestID)
		return ok && slices.Contains(aliveMarks(vm), mark)
	})
	if swept := rc.h.Sweep(ctx, "lab"); len(swept) != 0 {
		t.Fatalf("the sweep destroyed %v, the test VM of a check whose VM.start runs", swept)
	}
	released()
	rc.completed(t)
}

// TestSweepSparesACheckRenewingItsMark: a renewal of the alive mark is a
// remove then an add (XAPI's add_to_other_config refuses an existing key).
// A sweep that reads the test VM between the two, here while the add is
// held, must still see a live check (its other mark) and leave the VM.
func TestSweepSparesACheckRenewingItsMark(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var armed atomic.Bool
	aliveAdd := func(b []byte) bool {
		return armed.Load() && isMethod("VM.add_to_other_config")(b) && bytes.Contains(b, []byte(xotag.KeyHealthCheckAlive))
	}
	var start, renewal held
	rc := startCheck(t, ctx, func(next http.RoundTripper) http.RoundTripper {
		renewal = hold(aliveAdd, next)
		start = hold(isMethod("Async.VM.start"), renewal)
		return start
	})
	releaseStart := sync.OnceFunc(func() { close(start.release) })
	releaseRenewal := sync.OnceFunc(func() { close(renewal.release) })
	t.Cleanup(releaseStart)
	t.Cleanup(releaseRenewal)
	rc.waitFor(t, ctx, start, "VM.start") // marked, tagged, renewed by keepAlive from now on
	armed.Store(true)
	rc.waitFor(t, ctx, renewal, "a renewal of the alive mark")
	if swept := rc.h.Sweep(ctx, "lab"); len(swept) != 0 {
		t.Fatalf("the sweep destroyed %v, the test VM of a live check renewing its mark", swept)
	}
	releaseRenewal()
	releaseStart()
	rc.completed(t)
}

// aliveMarks are the alive marks on vm.
func aliveMarks(vm xapi.VM) []string {
	var marks []string
	for k, v := range vm.OtherConfig {
		if strings.HasPrefix(k, xotag.KeyHealthCheckAlive) {
			marks = append(marks, v)
		}
	}
	return marks
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
