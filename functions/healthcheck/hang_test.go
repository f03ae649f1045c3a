package healthcheck_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/healthcheck"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestStuckStartEndsAtTheTimeout: the check's timeout bounds only the wait
// for the guest, after VM.start returns. A VM.start that never returns (a
// task stuck on a host) holds the check, its consumer slot and its test VM
// (whose mark it keeps renewing, so no sweep takes it) for ever.
func TestStuckStartEndsAtTheTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sim, u, _ := testsupport.StartSim(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20, DataDir: t.TempDir(), BootDelay: 50 * time.Millisecond})
	start := hold(isMethod("Async.VM.start"), http.DefaultTransport)
	defer close(start.release)
	c, err := xapi.New(u, xapi.WithHTTPClient(&http.Client{Transport: start}))
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
	req := events.HealthCheckRequested{RequestID: events.NewHealthCheckID("healthcheck", "replica:"+src.UUID),
		BackupID: "replica:" + src.UUID, CopyUUID: src.UUID, VMUUID: src.UUID, Pool: "lab", SR: "Local storage",
		Method: events.HealthMethodGuestMetrics, TimeoutMS: 300}
	done := make(chan error, 1)
	go func() {
		_, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: req}})
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the check of timeout %dms still runs 5s after it began (VM.start never returned)", req.TimeoutMS)
	}
}
