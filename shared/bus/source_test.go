package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// TestEventFromAForbiddenSourceGoesToDLQ is issue 12's defence in depth: a
// consumer on a connection that checks sources dead-letters, with the
// reason, an event whose source may not produce its type, and handles the
// same event from an allowed producer.
func TestEventFromAForbiddenSourceGoesToDLQ(t *testing.T) {
	e := newEnv(t)
	checking, err := bus.Connect(e.srv.ClientURL(), bus.ConnectOptions{Name: t.Name(), CheckSources: true}, e.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = checking.Close() })
	var handled counter
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- checking.Consume(ctx, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
			handled.add(ev)
			return nil, nil
		}))
	}()
	t.Cleanup(func() { cancel(); <-done })

	forged := exportRequested(t, "forged") // source /xbr/test
	good := exportRequested(t, "nightly")
	good.Event.SetSource(events.Source("export"))
	e.publish(t, forged)
	e.publish(t, good)
	testsupport.Eventually(t, 10*time.Second, "the allowed event handled, the forged one settled", func() bool {
		return handled.n() == 1 && e.settled(t, "export")()
	})
	reason := e.dlqMessage(t, "export").Header.Get(bus.HeaderDLQReason)
	if !strings.Contains(reason, `source "/xbr/test" may not produce xbr.export.requested`) {
		t.Errorf("DLQ reason %q does not name the source", reason)
	}
}
