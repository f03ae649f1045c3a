package healthcheck_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/healthcheck"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// failFirst fails the first request whose XML-RPC body match accepts, as a
// pool that is briefly unreachable; the others go to next.
type failFirst struct {
	match  func([]byte) bool
	failed *atomic.Bool
	next   http.RoundTripper
}

func (f failFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if f.match(b) && f.failed.CompareAndSwap(false, true) {
			return nil, errors.New("connection reset by fault injection")
		}
	}
	return f.next.RoundTrip(r)
}

// TestRestoredTestVMIsNotLeftWhenItsLookupFails: when the pool cannot be
// asked for the restored test VM (a moment's outage), the check is tried
// again rather than reported failed with the VM unmarked, which no
// check and no sweep would then destroy.
func TestRestoredTestVMIsNotLeftWhenItsLookupFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sim, u, plain := testsupport.StartSim(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20, DataDir: t.TempDir(), BootDelay: 50 * time.Millisecond})
	var failed atomic.Bool
	c, err := xapi.New(u, xapi.WithHTTPClient(&http.Client{Transport: failFirst{match: isMethod("VM.get_by_uuid"),
		failed: &failed, next: http.DefaultTransport}}))
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
	h := healthcheck.New(onePool{c}, conn, pending, xapiSubjects(t), healthcheck.Options{Poll: 10 * time.Millisecond,
		AliveEvery: 10 * time.Millisecond})
	backup := "nfs:" + src.UUID + "/20261206T020000Z"
	req := events.HealthCheckRequested{RequestID: events.NewHealthCheckID("healthcheck", backup), BackupID: backup,
		VMUUID: src.UUID, Pool: "lab", SR: "Local storage", Method: events.HealthMethodGuestMetrics, TimeoutMS: 10000}
	if _, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: req}}); err != nil {
		t.Fatal(err)
	}
	// The restore function's part: a new VM, named as the check asked.
	ref, err := plain.Clone(ctx, xapi.VMRef(src.Ref), healthcheck.TestVMPrefix+src.UUID)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := plain.VMRecord(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	done := events.RestoreCompleted{RequestID: req.RequestID, BackupID: backup, NewVMUUID: rec.UUID}
	var outs []bus.Out
	for delivery := 1; ; delivery++ { // as the bus redelivers an error
		outs, err = h.Handle(ctx, bus.Event{Received: events.Received{Payload: done}})
		if err == nil || delivery == 5 {
			break
		}
	}
	if !failed.Load() {
		t.Fatal("VM.get_by_uuid was never called")
	}
	for _, vm := range sim.VMs() {
		if vm.UUID == rec.UUID {
			t.Fatalf("the test VM %s is left after its check (outcome %v, %v)", rec.UUID, outs, err)
		}
	}
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeHealthCheckCompleted) {
		t.Fatalf("outcome %v, %v; want %s", outs, err, events.TypeHealthCheckCompleted)
	}
}
