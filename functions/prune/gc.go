package prune

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/repo"
)

// GCFilter is what the prune consumer reads of the fires: those of gc jobs,
// <prefix>.schedule.due.gc.>.
func GCFilter(s events.Subjects) string { return s.FilterKeys(events.TypeScheduleDue, config.ModeGC) }

// Collect runs one fire of a gc job, as functions/verify runs a verify job:
// the garbage collection of the incremental repository on each of the job's
// remotes, one xbr.gc.completed or xbr.gc.failed per remote, then
// xbr.run.completed (success when every GC completed, failure when all
// failed, partial otherwise). A remote without a repository has nothing to
// collect: its GC completes with zero counts. Event ids derive from the run,
// so a redelivered fire publishes nothing twice; GC is idempotent, so
// running it again is harmless.
func (p *Pruner) Collect(ctx context.Context, due events.ScheduleDue) ([]bus.Out, error) {
	if due.Mode != config.ModeGC {
		return nil, bus.Permanent(fmt.Errorf("schedule.due of mode %q (job %s) reached the gc planner, which reads mode %q",
			due.Mode, due.Job, config.ModeGC))
	}
	job, ok := p.job(due.Job)
	switch {
	case !ok:
		return nil, bus.Permanent(fmt.Errorf("schedule.due for unknown job %q", due.Job))
	case job.Mode != config.ModeGC:
		return nil, bus.Permanent(fmt.Errorf("schedule.due of mode gc for job %s, whose mode is now %q", due.Job, job.Mode))
	case p.repos == nil:
		return nil, bus.Permanent(errors.New("no incremental repositories are configured in the prune function"))
	}
	start := p.o.Now()
	var outs []bus.Out
	failed := 0
	for _, rem := range job.Remotes {
		pl, err := p.collectRemote(ctx, due, rem)
		if err != nil {
			return nil, err // shutting down: the redelivery runs the GC again
		}
		if _, bad := pl.(events.GCFailed); bad {
			failed++
		}
		out, err := p.message(events.DeriveID(string(pl.EventType()), due.RunID, rem), pl)
		if err != nil {
			return nil, bus.Permanent(err)
		}
		outs = append(outs, out)
	}
	status := events.StatusSuccess
	switch {
	case failed > 0 && failed == len(job.Remotes):
		status = events.StatusFailure
	case failed > 0:
		status = events.StatusPartial
	}
	done, err := p.message(events.DeriveID("run.completed", due.RunID), events.RunCompleted{RunID: due.RunID,
		Job: due.Job, Schedule: due.Schedule, Status: status, DurationMS: p.o.Now().Sub(start).Milliseconds()})
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return append(outs, done), nil
}

// collectRemote collects one remote's repository and returns the event that
// says so; an error only when ctx ends.
func (p *Pruner) collectRemote(ctx context.Context, due events.ScheduleDue, rem string) (events.Payload, error) {
	start := time.Now()
	rp, err := p.repos.Open(ctx, rem)
	var rep repo.GCReport
	if err == nil {
		rep, err = rp.GC(ctx, repo.GCOptions{Grace: p.o.GCGrace})
	} else if errors.Is(err, fn.ErrNoRepository) {
		err = nil
	}
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		p.o.Log.Warn("repository GC failed; the next one resumes", "job", due.Job, "remote", rem, "err", err)
		return events.GCFailed{RunID: due.RunID, Job: due.Job, Schedule: due.Schedule, Remote: rem,
			Error: events.Reason(err), ChunksSwept: int64(rep.Swept), BytesSwept: rep.SweptBytes}, nil
	}
	return events.GCCompleted{RunID: due.RunID, Job: due.Job, Schedule: due.Schedule, Remote: rem,
		Manifests: int64(rep.Manifests), Referenced: int64(rep.Referenced), ChunksSwept: int64(rep.Swept),
		BytesSwept: rep.SweptBytes, Deferred: rep.Deferred, DurationMS: time.Since(start).Milliseconds()}, nil
}
