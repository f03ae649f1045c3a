package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/runs"
	"xbr/shared/xapi"
)

// Name is the function's name.
const Name = "snapshot"

// Function is the snapshot function as `xbr serve` runs it.
func Function() fn.Function {
	return fn.Function{Name: Name, Run: run}
}

func run(ctx context.Context, env *fn.Env) error {
	coord, err := runs.ForEnv(ctx, env)
	if err != nil {
		return err
	}
	s := New(env.Config.Jobs, env.Pools, coord, env.Subjects, Options{Now: env.Now, Log: env.Log.With(bus.KeyFunction, Name)})
	return runs.ConsumeAll(ctx, env.Conn, s.flow.Consumers(env.Streams.WithDefaults().Events, bus.HandlerFunc(s.take)))
}

// topics are snapshot's: a VM's work is a snapshot.requested; the worker
// records the VM's result itself, so the flow has no runner.
var topics = runs.Topics{Function: Name, Mode: config.ModeSnapshot, Request: events.TypeSnapshotRequested}

// Pools hands out logged-in XAPI clients by pool name; *fn.Pools is one.
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
	cfg      *config.Config
	pools    Pools
	runs     *runs.Coordinator
	subjects events.Subjects
	now      func() time.Time
	log      *slog.Logger
	flow     runs.Flow   // snapshot's declaration in the run skeleton
	planner  bus.Handler // schedule.due → a run
	worker   bus.Handler // snapshot.requested → a VM's snapshot
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
	s := &Snapshotter{cfg: &config.Config{Jobs: jobs}, pools: pools, runs: coord, subjects: subjects, now: o.Now, log: o.Log}
	s.flow = runs.Flow{Runs: coord, Config: s.cfg, Subjects: subjects, Topics: topics,
		Work: "snapshot", Log: o.Log, Message: s.message, Resolve: s.resolve, Request: s.request, Failed: s.lastFailed}
	s.planner, s.worker = runs.NewPlanner(s.flow), s.flow.Worker(bus.HandlerFunc(s.take))
	return s
}

// Handle plans a run on schedule.due and snapshots a VM on snapshot.requested.
func (s *Snapshotter) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	switch ev.Payload.(type) {
	case events.ScheduleDue:
		return s.planner.Handle(ctx, ev)
	case events.SnapshotRequested:
		return s.worker.Handle(ctx, ev)
	}
	return nil, nil
}

// message builds a follow-up event with a derived id.
func (s *Snapshotter) message(id string, p events.Payload) (bus.Out, error) {
	m, err := s.subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: s.now()}, p)
	if err != nil {
		return bus.Out{}, fmt.Errorf("build %s: %w", p.EventType().Short(), err)
	}
	return m, nil
}
