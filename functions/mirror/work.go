package mirror

import (
	"context"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/repo"
	"xbr/shared/retention"
	"xbr/shared/runs"
)

// work mirrors one VM to every target of its job. A failure is the VM's
// mirror.failed, with what was done before; only the end of ctx (shutting
// down) is an error, so the request is redelivered. A run whose lock was
// taken over meanwhile stops (renewer) and fails saying so.
func (d Deps) work(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	p, err := events.PayloadAs[events.MirrorRequested](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	job, ok := d.Config.Job(p.Job)
	if !ok || job.Mode != config.ModeMirror {
		return nil, bus.Permanent(fmt.Errorf("mirror.requested of job %q, which is not a mirror job", p.Job))
	}
	sched, ok := job.Schedule(p.Schedule)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("mirror job %s has no schedule %q", p.Job, p.Schedule))
	}
	start := time.Now()
	var done []events.MirrorTarget
	hctx, hold := d.Runs.Hold(ctx, p.Job, p.RunID)
	defer hold.Release()
	r := &renewer{hold: hold, now: d.Now, log: d.Log.With("job", p.Job), run: p.RunID}
	err = d.mirrorVM(hctx, p, policy(sched), r, &done)
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	if lost := runs.Lost(hctx); lost != nil { // taken over: what it did, and why it stopped
		err = lost
	}
	if err != nil {
		d.Log.Warn("mirror failed; the next run completes it", "job", p.Job, "vm_uuid", p.VMUUID, "err", err)
		out, merr := d.failed(p, done, err)
		return []bus.Out{out}, merr
	}
	out, err := d.message(events.DeriveID("mirror.completed", p.RunID, p.VMUUID), events.MirrorCompleted{
		RunID: p.RunID, Job: p.Job, Schedule: p.Schedule, VMUUID: p.VMUUID, Source: p.Source, Targets: done,
		DurationMS: time.Since(start).Milliseconds()})
	return []bus.Out{out}, err
}

// policy is a schedule's retention of restore points on each target.
func policy(s config.Schedule) retention.Policy {
	return retention.Policy{Depth: s.Retention, Daily: s.LongTerm.Daily, Weekly: s.LongTerm.Weekly,
		Monthly: s.LongTerm.Monthly, Yearly: s.LongTerm.Yearly, Location: s.Location}
}

// mirrorVM mirrors the VM of p to each target in turn, appending what it did
// to done; r renews the run's lock.
func (d Deps) mirrorVM(ctx context.Context, p events.MirrorRequested, pol retention.Policy, r *renewer,
	done *[]events.MirrorTarget) error {
	src, err := d.Repos.Open(ctx, p.Source)
	if err != nil {
		return fmt.Errorf("mirror source %s: %w", p.Source, err)
	}
	points, err := src.List(ctx, p.VMUUID)
	if err != nil {
		return err
	}
	for _, name := range p.Targets {
		dst, err := d.Repos.EnsureMirror(ctx, name, src)
		if err != nil {
			return fmt.Errorf("mirror target %s: %w", name, err)
		}
		t := events.MirrorTarget{Remote: name}
		err = d.mirrorTo(ctx, src, dst, p.VMUUID, points, pol, r, &t)
		*done = append(*done, t)
		if err != nil {
			return fmt.Errorf("mirror target %s: %w", name, err)
		}
	}
	return nil
}

// mirrorTo decides the retention over the VM's points on the source and on
// target dst together, copies the kept points dst lacks (oldest first), then,
// when every kept point is on dst and the run still holds its lock, deletes
// dst's points outside it (dst's garbage is collected when the run has
// ended: functions/prune).
func (d Deps) mirrorTo(ctx context.Context, src, dst *repo.Repo, vm string, srcPoints []repo.PointInfo,
	pol retention.Policy, r *renewer, t *events.MirrorTarget) error {
	if err := repo.Compatible(src.Config(), dst.Config()); err != nil {
		return err
	}
	have, err := dst.List(ctx, vm)
	if err != nil {
		return err
	}
	onDst := map[string]bool{}
	all := map[string]repo.Point{}
	for _, pi := range have {
		onDst[pi.String()], all[pi.String()] = true, pi.Point
	}
	for _, pi := range srcPoints {
		all[pi.String()] = pi.Point
	}
	items := make([]retention.Item, 0, len(all))
	for id, pt := range all {
		items = append(items, retention.Item{ID: id, Time: pt.Time})
	}
	dec, err := retention.Decide(items, pol)
	if err != nil {
		return err
	}
	complete, err := d.copyKept(ctx, src, dst, dec.Keep, onDst, all, r, t)
	if err != nil {
		return err
	}
	if !complete { // the retention decided with a point that is gone: the next run decides again
		d.Log.Info("nothing deleted on the mirror target: a kept point went from the source during the copy", "remote", t.Remote, "vm_uuid", vm)
		return nil
	}
	if err := r.confirm(ctx); err != nil {
		return fmt.Errorf("nothing deleted on the target: %w", err)
	}
	return d.deleteRest(ctx, dst, dec, onDst, all, t)
}
