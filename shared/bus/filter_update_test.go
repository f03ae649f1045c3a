package bus_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// fire is a schedule.due of job "nightly" published on subject (an old
// subject stands for a fire of events contract 1.x).
func (e *env) fire(t *testing.T, id, subject string) {
	t.Helper()
	m, err := subjects.Message(events.Meta{ID: id, Source: events.Source("timer"), Time: time.Now()},
		events.ScheduleDue{RunID: id, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.Publish(context.Background(), subject, m.Event); err != nil {
		t.Fatal(err)
	}
}

// An upgrade changes a planner's filter from every fire to the fires of its
// mode: the existing durable is updated in place (start-up does not fail),
// reads the new subjects only, and still redelivers a fire it had handed
// out before the change; a fire on the old subject it had not reached yet
// is left behind (events/README.md, "Migrating to 2.0.0").
func TestChangedFilterUpdatesTheDurableInPlace(t *testing.T) {
	e := newEnv(t)
	old := bus.ConsumerConfig{Function: "export", Durable: "export-plan", Subjects: []string{subjects.Filter(events.TypeScheduleDue)},
		AckWait: time.Second, FetchWait: 500 * time.Millisecond, DrainTimeout: 5 * time.Second}
	cons, err := e.conn.EnsureConsumer(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	e.fire(t, "pending", "xbr.schedule.due.nightly.daily")
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() { // delivered, never acked: redelivered after AckWait
	}
	e.fire(t, "undelivered", "xbr.schedule.due.nightly.weekly")

	updated := old
	updated.Subjects = []string{subjects.FilterKeys(events.TypeScheduleDue, events.ModeFull)}
	var mu sync.Mutex
	var got []string
	stop := e.consume(t, updated, bus.HandlerFunc(func(_ context.Context, ev bus.Event) ([]bus.Out, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev.Event.ID())
		return nil, nil
	}))
	e.fire(t, "full", "xbr.schedule.due.full.nightly.daily")
	e.fire(t, "snapshot", "xbr.schedule.due.snapshot.hourly.hourly")
	testsupport.Eventually(t, 15*time.Second, "the pending and the full fire handled, nothing left", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2 && e.settled(t, "export-plan")()
	})
	stop()
	slices.Sort(got)
	if !slices.Equal(got, []string{"full", "pending"}) {
		t.Errorf("handled %v, want the full fire and the redelivered pending one", got)
	}
	if f := e.consumerInfo(t, "export-plan").Config.FilterSubjects; !slices.Equal(f, updated.Subjects) {
		t.Errorf("durable filters %v, want %v", f, updated.Subjects)
	}
}
