package replicate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/runs"
	"xbr/shared/xapi"
)

// Name is the function's name: its DLQ subject is <prefix>.dlq.replicate.
const Name = "replicate"

// Durable consumer names.
const (
	PlannerDurable = "replicate-plan"
	WorkerDurable  = "replicate-worker"
	RunnerDurable  = "replicate-runner"
)

// Pools hands out logged-in XAPI clients by pool name (*fn.Pools).
type Pools interface {
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Publisher publishes an event right away (*bus.Conn): replicate.started
// and replicate.progress.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error)
}

// Deps is what the handlers need. Zero optional fields mean defaults.
type Deps struct {
	Config    *config.Config
	Pools     Pools
	Runs      *runs.Coordinator
	Publisher Publisher
	Subjects  events.Subjects
	Log       *slog.Logger     // [discard]
	Now       func() time.Time // [time.Now]
	// ProgressEvery is the period of replicate.progress events during a
	// transfer [events.DefaultProgressEvery]; the run's lock is renewed
	// every runs.RenewEvery.
	ProgressEvery time.Duration
	// Wait sleeps between retries [a timer honouring ctx].
	Wait func(ctx context.Context, d time.Duration) error
}

func (d Deps) withDefaults() Deps {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ProgressEvery <= 0 {
		d.ProgressEvery = events.DefaultProgressEvery
	}
	if d.Wait == nil {
		d.Wait = runs.Sleep
	}
	return d
}

// Function is the replicate function as `xbr serve` runs it, with the
// dr.ls query.
func Function() fn.Function { return fn.Function{Name: Name, Run: run, API: API()} }

func run(ctx context.Context, env *fn.Env) error {
	coord, err := runs.ForEnv(ctx, env)
	if err != nil {
		return err
	}
	d := Deps{Config: env.Config, Pools: env.Pools, Runs: coord, Publisher: env.Conn,
		Subjects: env.Subjects, Log: env.Log.With(bus.KeyFunction, Name), Now: env.Now}
	return Consume(ctx, env.Conn, env.Streams, d)
}

// Consume runs the planner, the worker, the runner and the failover
// handler on conn until ctx is cancelled.
func Consume(ctx context.Context, conn *bus.Conn, streams events.StreamNames, d Deps) error {
	d = d.withDefaults()
	stream := streams.WithDefaults().Events
	return runs.ConsumeAll(ctx, conn, append(d.flow().Consumers(stream, newWorker(d)),
		runs.Consumer{Config: FailoverConsumer(d.Subjects, stream), Handler: NewFailoverHandler(d)}))
}

// Consumers are the planner's, the worker's and the runner's consumer
// configurations, in that order.
func Consumers(s events.Subjects, stream string, workers int) []bus.ConsumerConfig {
	return Deps{}.flow().Topics.Consumers(s, stream, workers)
}

// message builds an outgoing event with the function's source.
func (d Deps) message(id string, at time.Time, p events.Payload) (bus.Out, error) {
	m, err := d.Subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: at}, p)
	if err != nil {
		return bus.Out{}, fmt.Errorf("build %s: %w", p.EventType(), err)
	}
	return m, nil
}

// requestOut is the per-VM work item of a run (see the package doc).
func (d Deps) requestOut(job config.Job, r runs.Run, vm runs.VM) (bus.Out, error) {
	p := events.ReplicateRequested{RunID: r.ID, Job: r.Job, Schedule: r.Schedule, FireTime: r.FireTime, VMUUID: vm.UUID,
		VMName: vm.Name, Pool: vm.Pool, TargetPool: job.Target.Pool, TargetSR: job.Target.SR}
	return d.message(events.DeriveID("replicate.requested", r.ID, vm.UUID), d.Now(), p)
}
