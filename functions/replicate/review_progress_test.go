package replicate_test

import (
	"context"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/functions/replicate"
	"xbr/shared/bus"
)

// slowProgress is a bus whose progress publishes do not come back (a
// JetStream leader election, a NATS outage: nats.go waits for the ack up
// to its timeout) until released; other events go through.
type slowProgress struct {
	replicate.Publisher
	release chan struct{}
}

func (s slowProgress) Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error) {
	if ev.Type() == string(events.TypeReplicateProgress) {
		<-s.release
	}
	return s.Publisher.Publish(ctx, subject, ev)
}

// Progress events are informative: export and restore publish them from a
// ticker of their own (runs.Tick), beside the transfer. replicate publishes
// them, and renews the run's lock, inside the Read of the /export stream
// (Options.Progress, "it must be quick"), so a progress publish that is
// slow to be acknowledged stops the transfer between the two pools for as
// long: a bus that answers slowly slows every replication to the pace of
// its acks, and one that does not answer stops it.
func TestReplicationDoesNotWaitForItsProgressEvents(t *testing.T) {
	h := newDRHarness(t)
	vm := h.main.sourceVMs(t)[0]
	rec := workItem(t, h, vm.UUID)
	slow := slowProgress{Publisher: h.deps.Publisher, release: make(chan struct{})}
	d := h.deps
	d.Publisher = slow
	w := replicate.NewWorker(d)
	done := make(chan error, 1)
	go func() {
		outs, err := w.Handle(context.Background(), bus.Event{Received: rec, Delivery: bus.Delivery{Attempt: 1}})
		if err == nil && (len(outs) != 1 || outs[0].Event.Type() != string(events.TypeReplicateCompleted)) {
			err = errOutcome(outs)
		}
		done <- err
	}()
	// The copy completes (the transfer and its finishing steps are done)
	// while the progress event is still waiting for its ack.
	complete := func() bool {
		for _, c := range h.standby.copiesOf(t, vm.UUID) {
			if c.Complete() {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(30 * time.Second) // a 2 MiB disk between two local simulators takes well under a second
	for !complete() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	ok := complete()
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("the replication of %s waited for its progress event to be acknowledged: no complete copy after 30 s", vm.UUID)
	}
}

type errOutcome []bus.Out

func (e errOutcome) Error() string {
	if len(e) == 0 {
		return "no outcome"
	}
	return "outcome " + e[0].Event.Type()
}
