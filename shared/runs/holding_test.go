package runs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
)

// TestKeepHoldsTheRunWhileItWaits: a worker that waits outside its run (for
// Xen Orchestra's lock of a VM folder) keeps the job's lock fresh with
// Hold.Keep, so the next fire does not take the run over as stale; once the
// run has ended, the hold's context ends with ErrNotHolder (Lost).
func TestKeepHoldsTheRunWhileItWaits(t *testing.T) {
	const stale = 200 * time.Millisecond
	conn, err := bus.Connect(server(t), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx := context.Background()
	c, err := runs.New(ctx, conn, runs.Options{StaleAfter: stale})
	if err != nil {
		t.Fatal(err)
	}
	r := mustStart(t, c, fire("r1", ""), 1, vms(1))
	wait, hold := c.Hold(ctx, "nightly", "r1")
	defer hold.Release()
	stop := hold.Keep(slog.New(slog.DiscardHandler))
	defer stop()
	time.Sleep(3 * stale) // the wait lasts longer than StaleAfter
	if a := mustAdmit(t, c, fire("r2", "")); a.Interrupted != nil || a.Run == nil || a.Run.Status != events.StatusSkipped {
		t.Fatalf("next fire while r1 waits: %+v, want it skipped as r1 runs", a)
	}
	finish(t, c, "r1", ok(r.VMs[0].UUID)) // r1 ends: it holds the lock no more
	testsupport.Eventually(t, 10*time.Second, "the wait to end", func() bool { return wait.Err() != nil })
	if err := runs.Lost(wait); !errors.Is(err, runs.ErrNotHolder) {
		t.Errorf("cause of the wait's end: %v, want ErrNotHolder", context.Cause(wait))
	}
}
