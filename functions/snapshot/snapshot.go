package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"xbr/events"
	"xbr/shared/app"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/xapi"
)

// Name is the function's name.
const Name = "snapshot"

// maxDeliver bounds the deliveries of one event (and so the retries of one
// VM's snapshot).
const maxDeliver = 5

// Function is the snapshot function as `xbr serve` runs it.
func Function() app.Function {
	return app.Function{Name: Name, Run: run}
}

func run(ctx context.Context, env *app.Env) error {
	coord, err := runs.New(ctx, env.Conn, runs.Options{Now: env.Now, Replicas: env.Config.NATS.StreamReplicas})
	if err != nil {
		return err
	}
	s := New(env.Config.Jobs, env.Pools, coord, env.Subjects, Options{Now: env.Now, Log: env.Log.With(bus.KeyFunction, Name)})
	var cs []runs.Consumer
	for _, cfg := range Consumers(env.Subjects, env.Streams.WithDefaults().Events) {
		cs = append(cs, runs.Consumer{Config: cfg, Handler: s})
	}
	return runs.ConsumeAll(ctx, env.Conn, cs)
}

// Durable consumer names.
const (
	PlannerDurable = "snapshot-plan"
	WorkerDurable  = "snapshot-worker"
)

// Consumers are the planner's (schedule.due, delivered as long as export's
// planner: a queued fire waits behind a running run) and the worker's
// (snapshot.requested) consumer configurations; one Snapshotter handles both.
func Consumers(s events.Subjects, stream string) []bus.ConsumerConfig {
	return []bus.ConsumerConfig{
		{Function: Name, Durable: PlannerDurable, Stream: stream, DLQ: s,
			Subjects: []string{s.Filter(events.TypeScheduleDue)}, MaxDeliver: runs.PlannerMaxDeliver,
			Backoff: bus.ExponentialBackoff(time.Second, runs.PlannerBackoffCap), Concurrency: 4},
		{Function: Name, Durable: WorkerDurable, Stream: stream, DLQ: s,
			Subjects: []string{s.Filter(events.TypeSnapshotRequested)}, MaxDeliver: maxDeliver,
			AckWait: time.Minute, Concurrency: 4},
	}
}

// Pools hands out logged-in XAPI clients by pool name; *app.Pools is one.
type Pools interface {
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Options are optional knobs; zero values mean defaults.
type Options struct {
	Now func() time.Time // [time.Now]
	Log *slog.Logger     // [discard]
}

// Snapshotter plans snapshot runs and takes the snapshots.
type Snapshotter struct {
	jobs     []config.Job
	pools    Pools
	runs     *runs.Coordinator
	subjects events.Subjects
	now      func() time.Time
	log      *slog.Logger
}

var _ bus.Handler = (*Snapshotter)(nil)

// New returns the handler of the snapshot function.
func New(jobs []config.Job, pools Pools, coord *runs.Coordinator, subjects events.Subjects, o Options) *Snapshotter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Snapshotter{jobs: jobs, pools: pools, runs: coord, subjects: subjects, now: o.Now, log: o.Log}
}

// Handle plans a run on schedule.due and snapshots a VM on snapshot.requested.
func (s *Snapshotter) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	switch p := ev.Payload.(type) {
	case events.ScheduleDue:
		return s.plan(ctx, ev.Delivery, p)
	case events.SnapshotRequested:
		outs, err := s.take(ctx, ev.Delivery, p)
		if runs.GivesUpRun(ctx, ev.Delivery, err) {
			s.log.Error("run given up on the last delivery of a snapshot request", bus.KeyFunction, Name, "run", p.RunID, "vm_uuid", p.VMUUID, "error", err)
			return runs.GiveUpRun(ctx, s.runs, s.message, p.RunID, ev.Delivery, err)
		}
		return outs, err
	}
	return nil, nil
}

func (s *Snapshotter) job(name string) (config.Job, bool) { return config.JobNamed(s.jobs, name) }

// message builds a follow-up event with a derived id.
func (s *Snapshotter) message(id string, p events.Payload) (bus.Out, error) {
	m, err := s.subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: s.now()}, p)
	if err != nil {
		return bus.Out{}, fmt.Errorf("build %s: %w", p.EventType().Short(), err)
	}
	return m, nil
}
