package prune

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
		pl, err := p.collectRemote(ctx, due.RunID, due.Job, due.Schedule, rem)
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

// AfterRun collects, once the run of an incremental or mirror job has ended,
// the repository on each of the job's remotes (a mirror's targets) from
// which restore points were deleted since the last GC (repo.GCDue): one
// xbr.gc.completed or xbr.gc.failed per remote collected, with the run's
// ids. The prunes of the run's VMs only delete manifests: a GC reads every
// manifest of the repository, so one per VM would make a run's cost grow
// with the square of its VMs.
//
// A VM's prune may end after its run's end was handled here (the two
// events are handled concurrently): the run is recorded as ended before the
// repositories are looked at, and a prune that deletes points of an ended
// run collects them itself (Points). So one of the two always sees the
// other's deletion, in this process; elsewhere the repository stays due for
// the next run's GC or a gc job. An error only when ctx ends.
func (p *Pruner) AfterRun(ctx context.Context, e events.RunCompleted) ([]bus.Out, error) {
	job, ok := p.job(e.Job)
	if !ok || p.repos == nil || (job.Mode != config.ModeIncremental && job.Mode != config.ModeMirror) {
		return nil, nil
	}
	p.ended.add(e.RunID, p.o.Now())
	return p.collectDue(ctx, e.RunID, e.Job, e.Schedule, "", job.Remotes...)
}

// collectDue collects the repositories on remotes that are due for a GC
// (repo.GCDue), each reported with the run's ids; trigger, when set (a
// prune after the run's end), is in the events' ids, which must differ from
// those of the run's end. An error only when ctx ends.
func (p *Pruner) collectDue(ctx context.Context, runID, job, schedule, trigger string, remotes ...string) ([]bus.Out, error) {
	var outs []bus.Out
	for _, rem := range remotes {
		rp, err := p.repos.Open(ctx, rem)
		due := false
		if err == nil {
			due, err = rp.GCDue(ctx)
		}
		if err != nil && !errors.Is(err, fn.ErrNoRepository) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			p.o.Log.Warn("repository GC after the run skipped; the next one collects", "run", runID, "remote", rem, "err", err)
		}
		if !due {
			continue
		}
		pl, err := p.collectRemote(ctx, runID, job, schedule, rem)
		if err != nil {
			return nil, err
		}
		parts := []string{string(pl.EventType()), runID, rem}
		if trigger != "" {
			parts = append(parts, trigger)
		}
		out, err := p.message(events.DeriveID(parts...), pl)
		if err != nil {
			return nil, bus.Permanent(err)
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// endedRuns are the runs whose end AfterRun has handled, kept for an hour.
type endedRuns struct {
	mu   sync.Mutex
	runs map[string]time.Time
}

const endedRunsKept = time.Hour

func (r *endedRuns) add(run string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs = map[string]time.Time{}
	}
	for k, at := range r.runs {
		if now.Sub(at) > endedRunsKept {
			delete(r.runs, k)
		}
	}
	r.runs[run] = now
}

func (r *endedRuns) has(run string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.runs[run]
	return ok
}

// collectRemote collects one remote's repository and returns the event that
// says so; an error only when ctx ends.
func (p *Pruner) collectRemote(ctx context.Context, runID, job, schedule, rem string) (events.Payload, error) {
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
		p.o.Log.Warn("repository GC failed; the next one resumes", "job", job, "remote", rem, "err", err)
		return events.GCFailed{RunID: runID, Job: job, Schedule: schedule, Remote: rem,
			Error: events.Reason(err), ChunksSwept: int64(rep.Swept), BytesSwept: rep.SweptBytes}, nil
	}
	return events.GCCompleted{RunID: runID, Job: job, Schedule: schedule, Remote: rem,
		Manifests: int64(rep.Manifests), Referenced: int64(rep.Referenced), ChunksSwept: int64(rep.Swept),
		BytesSwept: rep.SweptBytes, Deferred: rep.Deferred, DurationMS: time.Since(start).Milliseconds()}, nil
}
