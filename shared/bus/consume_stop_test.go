package bus_test

import (
	"context"
	"testing"

	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// TestConsumeStoppedBeforeItStarted: a Consume whose context ends while its
// consumer is still being created returns nil, as it does when the context
// ends later: a shutdown is not an error (a test ending right after its
// function started used to fail with "context canceled").
func TestConsumeStoppedBeforeItStarted(t *testing.T) {
	conn := testsupport.StartNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := bus.HandlerFunc(func(context.Context, bus.Event) ([]bus.Out, error) { return nil, nil })
	cfg := bus.ConsumerConfig{Function: "stop", Durable: "stop", Stream: "XBR_EVENTS", Subjects: []string{"xbr.stop.>"}}
	if err := conn.Consume(ctx, cfg, h); err != nil {
		t.Fatalf("Consume with its context ended: %v, want nil", err)
	}
}
