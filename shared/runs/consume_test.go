package runs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/runs"
)

// TestConsumeAll runs two consumers on one connection: each handler gets
// the events of its own consumer, and ConsumeAll returns once ctx ends,
// with the error of a consumer that could not start.
func TestConsumeAll(t *testing.T) {
	conn, err := bus.Connect(server(t), bus.ConnectOptions{Name: t.Name()}, discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := conn.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	s := events.Subjects{}
	seen := map[string]chan string{"due": make(chan string, 4), "req": make(chan string, 4)}
	record := func(name string) bus.Handler {
		return bus.HandlerFunc(func(_ context.Context, ev bus.Event) ([]bus.Out, error) {
			seen[name] <- string(ev.Type())
			return nil, nil
		})
	}
	cfg := func(durable string, ty events.Type) bus.ConsumerConfig {
		return bus.ConsumerConfig{Function: "test", Durable: durable, Subjects: []string{s.Filter(ty)},
			FetchWait: 100 * time.Millisecond, DrainTimeout: time.Second}
	}
	done := make(chan error, 1)
	go func() {
		done <- runs.ConsumeAll(ctx, conn, []runs.Consumer{
			{Config: cfg("due", events.TypeScheduleDue), Handler: record("due")},
			{Config: cfg("req", events.TypeRunStarted), Handler: record("req")},
			{Config: bus.ConsumerConfig{Function: "test", Durable: "broken"}, Handler: record("req")},
		})
	}()
	publish(t, conn, s, events.ScheduleDue{RunID: "r1", Job: "nightly", Schedule: "daily", FireTime: flowFire})
	publish(t, conn, s, events.RunStarted{RunID: "r1", Job: "nightly", Schedule: "daily", Mode: events.ModeFull,
		FireTime: flowFire, VMs: []events.RunVM{{VMUUID: vms(1)[0].UUID, VMName: "vm0", Pool: "lab"}}})
	for name, want := range map[string]events.Type{"due": events.TypeScheduleDue, "req": events.TypeRunStarted} {
		select {
		case got := <-seen[name]:
			if got != string(want) {
				t.Errorf("consumer %s handled %s, want %s", name, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("consumer %s handled nothing", name)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "consumer broken: no filter subjects") {
			t.Errorf("ConsumeAll: %v, want the broken consumer's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ConsumeAll did not return after ctx ended")
	}
}

func publish(t *testing.T, conn *bus.Conn, s events.Subjects, p events.Payload) {
	t.Helper()
	m, err := s.Message(events.Meta{ID: events.DeriveID("test", string(p.EventType())), Source: "/test", Time: flowFire}, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Publish(context.Background(), m.Subject, m.Event); err != nil {
		t.Fatal(err)
	}
}
