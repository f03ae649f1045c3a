package bus_test

import (
	"context"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// TestShutdownOnLastDeliveryIsNotDropped: a handler cancelled by a
// shutdown is nak'ed "redelivering" (settle); on the event's last delivery
// the server never redelivers it, and it is not dead-lettered either: a
// restart during a work request's last delivery drops it silently.
func TestShutdownOnLastDeliveryIsNotDropped(t *testing.T) {
	e := newEnv(t)
	cfg := exportConsumer("export")
	cfg.MaxDeliver = 1
	cfg.DrainTimeout = 200 * time.Millisecond
	var calls counter
	h := bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		if calls.add(ev) == 1 {
			<-ctx.Done() // a long export, cut by the shutdown
			return nil, ctx.Err()
		}
		return nil, nil
	})
	stop := e.consume(t, cfg, h)
	e.publish(t, exportRequested(t, "nightly"))
	testsupport.Eventually(t, 10*time.Second, "handler running", func() bool { return calls.n() == 1 })
	stop()
	e.consume(t, cfg, h) // the restarted process
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if calls.n() > 1 || e.subjectCount(t, events.DefaultDLQStream, subjects.DLQ("export")) == 1 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	i := e.consumerInfo(t, "export")
	t.Fatalf("event cut by a shutdown on its last delivery: neither redelivered after the restart nor dead-lettered (%d calls; ack-pending %d, pending %d)",
		calls.n(), i.NumAckPending, i.NumPending)
}
