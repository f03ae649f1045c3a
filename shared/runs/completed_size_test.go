package runs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	natsrv "github.com/nats-io/nats-server/v2/server"

	"xbr/events"
	"xbr/shared/runs"
)

// TestRunCompletedFitsMaxPayload: a run-shaped run's run.completed
// carries every VM's result with its error, each up to
// events.MaxReasonBytes (4 KiB). A full job over 300 VMs that all fail
// with a long error (a remote that refuses every write with a long
// message) makes a run.completed over NATS's default max_payload (1 MiB):
// the VM end that ends the run cannot publish it on any delivery, and is
// dead-lettered with the run recorded done but no run.completed ever
// published. The plan itself bounds a run to some 6,000 VMs (doc.go), so
// 300 is well inside what Start accepts. verify bounds its errors (512 B,
// commit f5ff37e); runs do not.
func TestRunCompletedFitsMaxPayload(t *testing.T) {
	tf := newFlow(t)
	ctx := context.Background()
	const n = 300
	f := runs.Fire{RunID: "big", Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: flowFire}
	if a, err := tf.Runs.Admit(ctx, f); err != nil || a.Run != nil {
		t.Fatalf("admit: %+v %v", a, err)
	}
	if _, err := tf.Runs.Start(ctx, f, 0, vms(n)); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", events.MaxReasonBytes-100)
	var last runs.Step
	for i, v := range vms(n) {
		st, err := tf.Runs.Finish(ctx, "big", events.VMResult{VMUUID: v.UUID, VMName: v.Name, Status: events.StatusFailure,
			Error: events.Reason(fmt.Errorf("vm %d: remote refused the write: %s", i, long))})
		if err != nil {
			t.Fatal(err)
		}
		last = st
	}
	if !last.Done {
		t.Fatalf("last end did not end the run: %+v", last)
	}
	o, err := tf.Completed(last.Run)
	if err != nil {
		t.Fatal(err)
	}
	if size := len(o.Event.Data()); size > natsrv.MAX_PAYLOAD_SIZE {
		t.Fatalf("run.completed of a run of %d failed VMs is %d bytes: over NATS's default max_payload %d, it cannot be published",
			n, size, natsrv.MAX_PAYLOAD_SIZE)
	}
}
