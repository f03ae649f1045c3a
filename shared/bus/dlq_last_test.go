package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// TestDLQCopyFailureOnLastDeliveryIsNotDropped: deadLetter promises
// that an event whose DLQ copy cannot be stored is nak'ed, "so it is never
// dropped silently". On the event's last delivery (MaxDeliver reached) the
// server never redelivers a nak'ed message: a DLQ copy that fails then (the
// DLQ stream briefly unavailable) drops the event with no copy and no
// further delivery, even once the DLQ is back.
func TestDLQCopyFailureOnLastDeliveryIsNotDropped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.conn.JetStream().DeleteStream(ctx, events.DefaultDLQStream); err != nil {
		t.Fatal(err)
	}
	cfg := exportConsumer("export")
	cfg.MaxDeliver = 2
	var calls counter
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		calls.add(ev)
		return nil, errors.New("remote nfs: input/output error")
	}))
	e.publish(t, exportRequested(t, "nightly"))
	testsupport.Eventually(t, 10*time.Second, "the DLQ copy of the last delivery failed", func() bool {
		return calls.n() >= 2 && strings.Contains(e.logs.String(), "copy to DLQ failed")
	})
	if err := e.conn.EnsureStreams(ctx, bus.Topology{}); err != nil { // the DLQ is back
		t.Fatal(err)
	}
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if e.subjectCount(t, events.DefaultDLQStream, subjects.DLQ("export")) == 1 || calls.n() > 2 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	i := e.consumerInfo(t, "export")
	t.Fatalf("event neither dead-lettered nor redelivered after its DLQ copy failed on the last delivery: %d calls, DLQ empty, consumer pending %d ack-pending %d redelivered %d",
		calls.n(), i.NumPending, i.NumAckPending, i.NumRedelivered)
}
