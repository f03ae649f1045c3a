package metadata

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/xapi"
)

// Name is the function's name: durable consumer and DLQ subject.
const Name = "metadata"

// Pools opens XAPI sessions by pool name (*fn.Pools).
type Pools interface {
	Client(ctx context.Context, name string) (*xapi.Client, error)
}

// Remotes opens remotes by name (*fn.Remotes).
type Remotes interface {
	Get(ctx context.Context, name string) (remote.Remote, error)
}

// StateWriter writes xbr's state (xbr-state.json) to w.
type StateWriter func(ctx context.Context, w io.Writer) error

// Handler backs up the pools' databases of a metadata job on each fire.
type Handler struct {
	Config   *config.Config
	Pools    Pools
	Remotes  Remotes
	State    StateWriter // [an empty object]
	Subjects events.Subjects
	Version  string           // xbr's version, in metadata.json
	Log      *slog.Logger     // [discard]
	Now      func() time.Time // [time.Now]
}

var _ bus.Handler = (*Handler)(nil)

// Function is the metadata function as `xbr serve` runs it.
func Function() fn.Function {
	return fn.Function{Name: Name, Run: func(ctx context.Context, env *fn.Env) error {
		h := &Handler{Config: env.Config, Pools: env.Pools, Remotes: env.Remotes, State: EnvState(env),
			Subjects: env.Subjects, Version: env.Version, Log: env.Log.With(bus.KeyFunction, Name), Now: env.Now}
		return env.Conn.Consume(ctx, bus.ConsumerConfig{Function: Name, Stream: env.Streams.WithDefaults().Events,
			Subjects: []string{Filter(env.Subjects)}, DLQ: env.Subjects, AckWait: 5 * time.Minute}, h)
	}}
}

// Filter is what the metadata consumer reads: the fires of metadata jobs,
// <prefix>.schedule.due.metadata.>.
func Filter(s events.Subjects) string {
	return s.FilterKeys(events.TypeScheduleDue, config.ModeMetadata)
}

// Handle runs one fire of a metadata job (see the package doc). A fire of
// another mode or of an unknown job is a permanent error that says so.
func (h *Handler) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	due, err := events.PayloadAs[events.ScheduleDue](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	job, sched, err := mine(h.Config, due)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	start := h.now()
	r := &run{h: h, due: due, job: job, sched: sched, ts: due.FireTime.UTC().Truncate(time.Second)}
	if why := h.Config.StaleFire(due, ev.Delivery.Stored, start); why != "" {
		h.log().Info("fire skipped", "job", due.Job, "fire_time", due.FireTime, "reason", why)
		err := r.add(events.DeriveID("run.completed", due.RunID), events.RunCompleted{RunID: due.RunID, Job: due.Job,
			Schedule: due.Schedule, Status: events.StatusSkipped, Reason: why})
		if err != nil {
			return nil, bus.Permanent(err)
		}
		return r.outs, nil
	}
	started := events.RunStarted{RunID: due.RunID, Job: due.Job, Schedule: due.Schedule, Mode: events.ModeMetadata,
		FireTime: due.FireTime}
	if err := r.add(events.DeriveID("run.started", due.RunID), started); err != nil {
		return nil, bus.Permanent(err)
	}
	for _, pool := range job.Pools {
		if err := r.pool(ctx, pool); err != nil {
			return nil, err
		}
	}
	if err := r.finish(start); err != nil {
		return nil, bus.Permanent(err)
	}
	return r.outs, nil
}

// mine returns the metadata job and schedule of fire due.
func mine(c *config.Config, due events.ScheduleDue) (config.Job, config.Schedule, error) {
	if due.Mode != "" && due.Mode != config.ModeMetadata {
		return config.Job{}, config.Schedule{}, fmt.Errorf("schedule.due of mode %q (job %s) reached metadata, which reads mode %q",
			due.Mode, due.Job, config.ModeMetadata)
	}
	job, ok := c.Job(due.Job)
	switch {
	case !ok:
		return config.Job{}, config.Schedule{}, fmt.Errorf("schedule.due for unknown job %q", due.Job)
	case job.Mode != config.ModeMetadata:
		return config.Job{}, config.Schedule{}, fmt.Errorf("schedule.due of mode %q for job %s, whose mode is now %q",
			due.Mode, due.Job, job.Mode)
	}
	for _, s := range job.Schedules {
		if s.Name == due.Schedule {
			return job, s, nil
		}
	}
	return config.Job{}, config.Schedule{}, fmt.Errorf("schedule.due for job %s: unknown schedule %q", due.Job, due.Schedule)
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}
