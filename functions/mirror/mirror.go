package mirror

import (
	"context"
	"log/slog"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/repo"
	"xbr/shared/runs"
)

// Name is the function's name: its durables are mirror-plan, mirror-worker
// and mirror-runner, its DLQ subject <prefix>.dlq.mirror.
const Name = "mirror"

// Repos opens the remotes' incremental repositories (*fn.Repos).
type Repos interface {
	// Open returns an error wrapping fn.ErrNoRepository when there is none.
	Open(ctx context.Context, name string) (*repo.Repo, error)
	// EnsureMirror opens name's repository, creating it as src's mirror.
	EnsureMirror(ctx context.Context, name string, src *repo.Repo) (*repo.Repo, error)
}

// Deps is what the handlers need; zero optional fields mean defaults.
type Deps struct {
	Config   *config.Config
	Repos    Repos
	Runs     *runs.Coordinator
	Subjects events.Subjects
	Log      *slog.Logger     // [discard]
	Now      func() time.Time // [time.Now]
}

func (d Deps) withDefaults() Deps {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// Function is the mirror function as `xbr serve` runs it.
func Function() fn.Function { return fn.Function{Name: Name, Run: run} }

func run(ctx context.Context, env *fn.Env) error {
	coord, err := runs.ForEnv(ctx, env)
	if err != nil {
		return err
	}
	d := Deps{Config: env.Config, Repos: env.Repos, Runs: coord, Subjects: env.Subjects,
		Log: env.Log.With(bus.KeyFunction, Name), Now: env.Now}
	return Consume(ctx, env.Conn, env.Streams, d)
}

// Consume runs the planner, the worker and the runner on conn until ctx is
// cancelled.
func Consume(ctx context.Context, conn *bus.Conn, streams events.StreamNames, d Deps) error {
	d = d.withDefaults()
	f := d.flow()
	return runs.ConsumeAll(ctx, conn, f.Consumers(streams.WithDefaults().Events, bus.HandlerFunc(d.work)))
}

// flow is mirror's declaration in the run skeleton: a VM's work is a
// mirror.requested and ends in a mirror.completed or mirror.failed.
func (d Deps) flow() runs.Flow {
	return runs.Flow{Runs: d.Runs, Config: d.Config, Subjects: d.Subjects,
		Topics: runs.Topics{Function: Name, Mode: config.ModeMirror, Request: events.TypeMirrorRequested,
			Ends: []events.Type{events.TypeMirrorCompleted, events.TypeMirrorFailed}},
		Work: "mirror", Log: d.Log, Message: d.message, Resolve: d.resolve, Request: d.request,
		Result: result, Failed: d.lastFailed}
}

// NewPlanner, NewWorker and NewRunner are the flow's handlers, as Consume
// runs them.
func NewPlanner(d Deps) bus.Handler { return runs.NewPlanner(d.withDefaults().flow()) }

// NewWorker mirrors one VM (see NewPlanner).
func NewWorker(d Deps) bus.Handler {
	d = d.withDefaults()
	return d.flow().Worker(bus.HandlerFunc(d.work))
}

// NewRunner ends the run (see NewPlanner).
func NewRunner(d Deps) bus.Handler { return runs.NewRunner(d.withDefaults().flow()) }

// message builds an outgoing event with the function's source.
func (d Deps) message(id string, p events.Payload) (bus.Out, error) {
	return runs.Message(d.Subjects, Name, d.Now, id, p)
}
