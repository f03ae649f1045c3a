package runs_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
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
	publish(t, conn, s, events.ScheduleDue{RunID: "r1", Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: flowFire})
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

// TestTopicsConsumers: the planner, worker and runner consumers of a
// run-shaped function, named after it and filtered on its events.
func TestTopicsConsumers(t *testing.T) {
	s, err := events.NewSubjects("acme")
	if err != nil {
		t.Fatal(err)
	}
	cfgs := runs.Topics{Function: "export", Mode: config.ModeFull, Request: events.TypeExportRequested,
		Ends: []events.Type{events.TypeExportCompleted, events.TypeExportFailed}}.Consumers(s, "EV", 7)
	want := []struct {
		durable    string
		subjects   []string
		maxDeliver int
		workers    int
	}{
		{"export-plan", []string{"acme.schedule.due.full.>"}, runs.PlannerMaxDeliver, 4},
		{"export-worker", []string{s.Filter(events.TypeExportRequested)}, runs.WorkerMaxDeliver, 7},
		{"export-runner", []string{s.Filter(events.TypeExportCompleted), s.Filter(events.TypeExportFailed)}, runs.RunnerMaxDeliver, 4},
	}
	if len(cfgs) != len(want) {
		t.Fatalf("%d consumers, want %d", len(cfgs), len(want))
	}
	for i, w := range want {
		c := cfgs[i]
		if c.Function != "export" || c.Durable != w.durable || c.Stream != "EV" || c.DLQ != s ||
			!reflect.DeepEqual(c.Subjects, w.subjects) || c.MaxDeliver != w.maxDeliver || c.Concurrency != w.workers {
			t.Errorf("consumer %d = %+v, want %+v", i, c, w)
		}
	}
	if cfgs[0].Backoff == nil || cfgs[0].Backoff(100) != runs.PlannerBackoffCap {
		t.Errorf("planner back-off does not cap at %s", runs.PlannerBackoffCap)
	}
}

func TestWorkerConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name string
		jobs []config.Job
		want int
	}{
		{"no job of the mode", []config.Job{{Mode: config.ModeReplicate, Concurrency: 9}}, 2},
		{"sum of the mode's jobs", []config.Job{{Mode: config.ModeFull, Concurrency: 3},
			{Mode: config.ModeFull, Concurrency: 0}, {Mode: config.ModeSnapshot, Concurrency: 5}}, 4},
	} {
		if got := runs.WorkerConcurrency(&config.Config{Jobs: tc.jobs}, config.ModeFull); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
