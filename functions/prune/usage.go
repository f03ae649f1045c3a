package prune

import (
	"context"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/remote"
)

// freeReporter is a remote that knows the free space under it (a
// directory remote: statfs); S3 has no such figure.
type freeReporter interface {
	FreeBytes() int64 // -1 when unknown
}

// Usage measures every remote a run wrote to or pruned once it has ended:
// one xbr.remote.usage per remote of the job, the sizes of every object
// listed there summed, and the free space where the remote knows it. A
// skipped run, and a verify job (it only reads), measure nothing.
func (p *Pruner) Usage(ctx context.Context, e events.RunCompleted) ([]bus.Out, error) {
	job, ok := p.job(e.Job)
	if !ok || job.Mode == config.ModeVerify || e.Status == events.StatusSkipped {
		return nil, nil
	}
	var outs []bus.Out
	for _, name := range job.Remotes {
		u, err := p.measure(ctx, name)
		if err != nil {
			p.o.Log.Warn("remote usage not measured", "remote", name, "run", e.RunID, "err", err)
			continue // the next run measures it; the run's result stands
		}
		u.RunID, u.Job = e.RunID, e.Job
		m, err := p.message(events.DeriveID("remote.usage", e.RunID, name), u)
		if err != nil {
			return nil, err
		}
		outs = append(outs, m)
	}
	return outs, nil
}

func (p *Pruner) measure(ctx context.Context, name string) (events.RemoteUsage, error) {
	rm, err := p.remotes.Get(ctx, name)
	if err != nil {
		return events.RemoteUsage{}, err
	}
	u := events.RemoteUsage{Remote: name}
	add := func(i remote.Info) { u.Objects++; u.UsedBytes += i.Size }
	// A repository's chunks one at a time, not all at once.
	if err := remote.Each(ctx, rm, "", add); err != nil {
		return events.RemoteUsage{}, fmt.Errorf("remote %s: listing: %w", name, err)
	}
	if f, ok := rm.(freeReporter); ok {
		if free := f.FreeBytes(); free >= 0 {
			u.FreeBytes = &free
		}
	}
	return u, nil
}
