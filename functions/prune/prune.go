package prune

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/xapi"
)

// Name is the function's name.
const Name = "prune"

// Defaults of Options.
const (
	DefaultSweepEvery        = time.Hour
	DefaultSweepAfter        = 24 * time.Hour
	DefaultTempSnapshotAfter = 24 * time.Hour
)

// Function is the prune function as `xbr serve` runs it.
func Function() fn.Function { return fn.Function{Name: Name, Run: run} }

func run(ctx context.Context, env *fn.Env) error {
	p := New(env.Config.Jobs, env.Remotes, env.Repos, env.Pools, env.Subjects,
		Options{Now: env.Now, Log: env.Log.With(bus.KeyFunction, Name)})
	go p.SweepEvery(ctx, env.Conn)
	return env.Conn.Consume(ctx, Consumer(env.Subjects, env.Streams.WithDefaults().Events), p)
}

// Consumer is the prune function's consumer configuration.
func Consumer(s events.Subjects, stream string) bus.ConsumerConfig {
	return bus.ConsumerConfig{Function: Name, Stream: stream, DLQ: s, MaxDeliver: 10,
		AckWait: time.Minute, Concurrency: 2,
		Subjects: []string{s.Filter(events.TypeExportCompleted), s.Filter(events.TypeSnapshotCompleted),
			s.Filter(events.TypeRunStarted), s.Filter(events.TypeIncrementalCompleted), GCFilter(s),
			s.Filter(events.TypeRunCompleted)}}
}

// Remotes opens remotes by name (*fn.Remotes).
type Remotes interface {
	Names() []string
	Get(ctx context.Context, name string) (remote.Remote, error)
}

// Pools hands out logged-in XAPI clients by pool name (*fn.Pools).
type Pools interface {
	Names() []string
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Options are optional knobs; zero values mean the defaults.
type Options struct {
	Now func() time.Time // [time.Now]
	Log *slog.Logger     // [discard]
	// SweepEvery is the period of the sweep of every remote and pool
	// [DefaultSweepEvery]; negative disables the periodic sweep.
	SweepEvery time.Duration
	// SweepAfter is the age after which a temp file, a data file without
	// its .json or a claim of a backup time is removed [DefaultSweepAfter].
	// It must exceed the longest upload.
	SweepAfter time.Duration
	// TempSnapshotAfter is the age after which a snapshot still named
	// xo-backup-temp-snapshot-name is destroyed [DefaultTempSnapshotAfter].
	TempSnapshotAfter time.Duration
	// GCGrace is the age under which an unreferenced chunk is kept by the
	// GC of an incremental repository (repo.GCOptions.Grace) [repo.DefaultGrace].
	GCGrace time.Duration
}

// Pruner is the prune function's handler and sweeper.
type Pruner struct {
	jobs     []config.Job
	remotes  Remotes
	repos    Repos
	pools    Pools
	subjects events.Subjects
	o        Options
	ended    endedRuns
}

var _ bus.Handler = (*Pruner)(nil)

// New returns the prune function's handler.
//
// repos may be nil where no incremental repository is configured.
func New(jobs []config.Job, remotes Remotes, repos Repos, pools Pools, subjects events.Subjects, o Options) *Pruner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SweepEvery == 0 {
		o.SweepEvery = DefaultSweepEvery
	}
	if o.SweepAfter <= 0 {
		o.SweepAfter = DefaultSweepAfter
	}
	if o.TempSnapshotAfter <= 0 {
		o.TempSnapshotAfter = DefaultTempSnapshotAfter
	}
	return &Pruner{jobs: jobs, remotes: remotes, repos: repos, pools: pools, subjects: subjects, o: o}
}

// Handle prunes after a completed export, incremental backup or snapshot, sweeps the run's
// remotes and pools when a run starts, runs the fires of gc jobs, and, when
// a run ends, collects the repositories its prunes deleted points from and
// measures the job's remotes. Other events are ignored.
func (p *Pruner) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	switch e := ev.Payload.(type) {
	case events.ExportCompleted:
		return p.Backups(ctx, ev.Event.ID(), e)
	case events.SnapshotCompleted:
		return p.Snapshots(ctx, ev.Event.ID(), e)
	case events.IncrementalCompleted:
		return p.Points(ctx, ev.Event.ID(), pointsDone(e))
	case events.ScheduleDue:
		return p.Collect(ctx, e)
	case events.RunCompleted:
		gc, err := p.AfterRun(ctx, e) // first, so that the usage counts what it swept
		if err != nil {
			return nil, err
		}
		usage, err := p.Usage(ctx, e)
		return append(gc, usage...), err
	case events.RunStarted:
		job, ok := p.job(e.Job)
		if !ok {
			return nil, nil
		}
		outs, err := p.Sweep(ctx, e.RunID, job.Remotes, job.Pools)
		if err != nil { // the periodic sweep goes on; the run is not held up
			p.o.Log.Warn("sweep at run start incomplete", "run", e.RunID, "job", e.Job, "err", err)
		}
		return outs, nil
	}
	return nil, nil
}

// schedule returns a configured job's schedule.
func (p *Pruner) schedule(job, sched string) (config.Schedule, error) {
	_, s, err := p.jobSchedule(job, sched)
	return s, err
}

func (p *Pruner) jobSchedule(job, sched string) (config.Job, config.Schedule, error) {
	j, ok := p.job(job)
	if !ok {
		return config.Job{}, config.Schedule{}, fmt.Errorf("job %q is not configured; nothing pruned", job)
	}
	s, ok := j.Schedule(sched)
	if !ok {
		return config.Job{}, config.Schedule{}, fmt.Errorf("job %s has no schedule %q; nothing pruned", job, sched)
	}
	return j, s, nil
}

func (p *Pruner) job(name string) (config.Job, bool) { return config.JobNamed(p.jobs, name) }

// message builds a follow-up event with a derived id.
func (p *Pruner) message(id string, pl events.Payload) (bus.Out, error) {
	m, err := p.subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: p.o.Now()}, pl)
	if err != nil {
		return bus.Out{}, fmt.Errorf("build %s: %w", pl.EventType().Short(), err)
	}
	return m, nil
}

// reason joins the retention's reasons into one event field (at most 256
// bytes, as the contract allows).
func reason(parts []string) string {
	s := strings.Join(parts, "; ")
	if len(s) > 256 {
		s = s[:253] + "..."
	}
	if s == "" {
		s = "outside retention"
	}
	return s
}
