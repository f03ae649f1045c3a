package incremental

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
	"xbr/shared/repo"
	"xbr/shared/runs"
	"xbr/shared/xapi"
)

// Name is the function's name: its DLQ subject is <prefix>.dlq.incremental.
const Name = "incremental"

// Pools hands out logged-in XAPI clients by pool name (*fn.Pools).
type Pools interface {
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Repos opens a remote's repository, creating it on first use (*fn.Repos).
type Repos interface {
	Ensure(ctx context.Context, remote string) (*repo.Repo, error)
}

// Publisher publishes an event right away (*bus.Conn); used for the
// incremental.started and incremental.progress side channel.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error)
}

// Deps is what the handlers need. Zero optional fields mean defaults.
type Deps struct {
	Config    *config.Config
	Pools     Pools
	Repos     Repos
	Runs      *runs.Coordinator
	Publisher Publisher
	Subjects  events.Subjects
	Log       *slog.Logger     // [discard]
	Now       func() time.Time // [time.Now]
	// ProgressEvery is the period of incremental.progress events during a
	// transfer [events.DefaultProgressEvery]; the run's lock is renewed
	// every runs.RenewEvery.
	ProgressEvery time.Duration
	// Wait sleeps between retries [a timer honouring ctx]; tests inject it.
	Wait func(ctx context.Context, d time.Duration) error
	// NBDConnections is how many NBD connections read one disk's changed
	// chunks at once [2]; memory is about twice that many chunks.
	NBDConnections int

	// afterCommit, when set, runs right after a point's commit; an error
	// ends the attempt there, before any cleanup, as a process killed at
	// that moment would (fault injection for tests: export_test.go).
	afterCommit func() error
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
	if d.NBDConnections <= 0 {
		d.NBDConnections = 2
	}
	return d
}

// Function is the incremental function as `xbr serve` runs it.
func Function() fn.Function { return fn.Function{Name: Name, Run: run} }

func run(ctx context.Context, env *fn.Env) error {
	coord, err := runs.ForEnv(ctx, env)
	if err != nil {
		return err
	}
	d := Deps{Config: env.Config, Pools: env.Pools, Repos: env.Repos, Runs: coord, Publisher: env.Conn,
		Subjects: env.Subjects, Log: env.Log.With(bus.KeyFunction, Name), Now: env.Now}
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

// request is the incremental.requested of one VM of a run of job.
func request(job config.Job, r runs.Run, vm runs.VM) events.IncrementalRequested {
	p := events.IncrementalRequested{RunID: r.ID, Job: r.Job, Schedule: r.Schedule, FireTime: r.FireTime,
		VMUUID: vm.UUID, VMName: vm.Name, Pool: vm.Pool, CBT: job.CBT}
	if len(job.Remotes) > 0 {
		p.Remote = job.Remotes[0]
	}
	return p
}

// requestOut is the follow-up requesting vm's restore point, with a derived id.
func (d Deps) requestOut(job config.Job, r runs.Run, vm runs.VM) (bus.Out, error) {
	return d.message(events.DeriveID("incremental.requested", r.ID, vm.UUID), request(job, r, vm))
}
