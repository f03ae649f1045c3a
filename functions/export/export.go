package export

import (
	"context"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/runs"
	"xbr/shared/xapi"
)

// Name is the function's name: its DLQ subject is <prefix>.dlq.export.
const Name = "export"

// Durable consumer names.
const (
	PlannerDurable = "export-plan"
	WorkerDurable  = "export-worker"
	RunnerDurable  = "export-runner"
)

// Pools hands out logged-in XAPI clients by pool name (*fn.Pools).
type Pools interface {
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Remotes opens remotes by name (*fn.Remotes).
type Remotes interface {
	Get(ctx context.Context, name string) (remote.Remote, error)
}

// Publisher publishes an event right away (*bus.Conn); used for the
// export.started and export.progress side channel.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error)
}

// Deps is what the handlers need. Zero optional fields mean defaults.
type Deps struct {
	Config    *config.Config
	Pools     Pools
	Remotes   Remotes
	Runs      *runs.Coordinator
	Publisher Publisher
	Subjects  events.Subjects
	Log       *slog.Logger     // [discard]
	Now       func() time.Time // [time.Now]
	Version   string           // recorded in the metadata's xbr object
	// ProgressEvery is the period of export.progress events during a
	// transfer [events.DefaultProgressEvery]; the run's lock is renewed
	// every runs.RenewEvery.
	ProgressEvery time.Duration
	// Wait sleeps between retries [a timer honouring ctx]; tests inject it.
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

// Function is the export function as `xbr serve` runs it.
func Function() fn.Function { return fn.Function{Name: Name, Run: run} }

func run(ctx context.Context, env *fn.Env) error {
	coord, err := runs.ForEnv(ctx, env)
	if err != nil {
		return err
	}
	d := Deps{Config: env.Config, Pools: env.Pools, Remotes: env.Remotes, Runs: coord, Publisher: env.Conn,
		Subjects: env.Subjects, Log: env.Log.With(bus.KeyFunction, Name), Now: env.Now, Version: env.Version}
	return Consume(ctx, env.Conn, env.Streams, d)
}

// Consume runs the planner, the worker and the runner on conn until ctx is
// cancelled.
func Consume(ctx context.Context, conn *bus.Conn, streams events.StreamNames, d Deps) error {
	d = d.withDefaults()
	return runs.ConsumeAll(ctx, conn, d.flow().Consumers(streams.WithDefaults().Events, newWorker(d)))
}

// Consumers are the planner's, the worker's and the runner's consumer
// configurations, in that order.
func Consumers(s events.Subjects, stream string, workers int) []bus.ConsumerConfig {
	return Deps{}.flow().Topics.Consumers(s, stream, workers)
}

// message builds an outgoing event with the function's source.
func (d Deps) message(id string, p events.Payload) (bus.Out, error) {
	return runs.Message(d.Subjects, Name, d.Now, id, p)
}

// request is the export.requested of one VM of a run of job.
func request(job config.Job, r runs.Run, vm runs.VM) events.ExportRequested {
	p := events.ExportRequested{RunID: r.ID, Job: r.Job, Schedule: r.Schedule, FireTime: r.FireTime,
		VMUUID: vm.UUID, VMName: vm.Name, Pool: vm.Pool, Remotes: job.Remotes, Codec: job.Compression}
	if job.XAPICompression != "" && job.XAPICompression != config.CodecNone {
		p.Codec, p.XAPICompression = job.XAPICompression, true
	}
	return p
}

// requestOut is the follow-up requesting vm's export, with a derived id.
func (d Deps) requestOut(job config.Job, r runs.Run, vm runs.VM) (bus.Out, error) {
	return d.message(events.DeriveID("export.requested", r.ID, vm.UUID), request(job, r, vm))
}
