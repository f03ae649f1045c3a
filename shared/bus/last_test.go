package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// TestLastDeliveryGiveUpPublishesItsOutcome: a handler learns which
// delivery is the last; giving up there with a permanent error and its
// failed outcome, the outcome is published and the event dead-lettered.
func TestLastDeliveryGiveUpPublishesItsOutcome(t *testing.T) {
	e := newEnv(t)
	cfg := exportConsumer("export")
	cfg.MaxDeliver = 3
	var mu sync.Mutex
	var seen []bus.Delivery
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		mu.Lock()
		seen = append(seen, ev.Delivery)
		mu.Unlock()
		if !ev.Delivery.Last() {
			return nil, errors.New("pool lab: connection refused")
		}
		return []bus.Out{followUp(t, ev)}, bus.Permanent(errors.New("given up: pool lab: connection refused"))
	}))
	e.publish(t, exportRequested(t, "nightly"))
	testsupport.Eventually(t, 10*time.Second, "dead-lettered", func() bool {
		return e.subjectCount(t, events.DefaultDLQStream, subjects.DLQ("export")) == 1
	})
	testsupport.Eventually(t, 10*time.Second, "settled", e.settled(t, "export"))
	if n := e.subjectCount(t, events.DefaultEventsStream, subjects.For(events.TypeExportCompleted, "nightly", testVM)); n != 1 {
		t.Errorf("%d outcomes published, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || seen[0].Last() || seen[1].Last() || !seen[2].Last() || seen[2].Max != 3 {
		t.Errorf("deliveries %+v, want 3 with only the third the last of 3", seen)
	}
}

// TestLastDeliveryWhosePublishFailsIsDeadLettered: follow-ups that can
// never be stored are retried, then, on the last delivery, the event is
// dead-lettered instead of being left unacknowledged for ever.
func TestLastDeliveryWhosePublishFailsIsDeadLettered(t *testing.T) {
	e := newEnv(t)
	cfg := exportConsumer("export")
	cfg.MaxDeliver = 3
	var calls counter
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		calls.add(ev)
		out := followUp(t, ev)
		out.Subject = "nowhere.export.completed" // no stream stores it
		return []bus.Out{out}, nil
	}))
	e.publish(t, exportRequested(t, "nightly"))
	testsupport.Eventually(t, 20*time.Second, "dead-lettered", func() bool {
		return e.subjectCount(t, events.DefaultDLQStream, subjects.DLQ("export")) == 1
	})
	testsupport.Eventually(t, 10*time.Second, "settled", e.settled(t, "export"))
	reason := e.dlqMessage(t, "export").Header.Get(bus.HeaderDLQReason)
	if !strings.Contains(reason, "max deliveries (3) reached: publishing follow-ups") || calls.n() != 3 {
		t.Errorf("reason %q after %d calls", reason, calls.n())
	}
}
