package metadata

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/xapi"
)

// run is one fire of a metadata job: what it has returned so far.
type run struct {
	h     *Handler
	due   events.ScheduleDue
	job   config.Job
	sched config.Schedule
	ts    time.Time // the folders' timestamp: the fire's, to the second

	outs              []bus.Out
	results           []events.VMResult
	succeeded, failed int
}

// add appends one follow-up event.
func (r *run) add(id string, p events.Payload) error {
	m, err := r.h.Subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: r.h.now()}, p)
	if err != nil {
		return err
	}
	r.outs = append(r.outs, m)
	return nil
}

// source is what a pool's backup is made of: its records and its dump.
type source struct {
	name, uuid   string
	pool, master json.RawMessage
}

// pool backs up one pool to every remote of the job; every outcome is an
// event, so only an event that cannot be built is an error.
func (r *run) pool(ctx context.Context, name string) error {
	start := r.h.now()
	c, src, err := r.open(ctx, name)
	if err != nil {
		return r.failAll(src, err)
	}
	dump, err := c.DumpPoolDatabase(ctx)
	if err != nil {
		return r.failAll(src, err)
	}
	targets, err := r.targets(ctx, src)
	if err != nil || len(targets) == 0 { // none: each remote's failure is reported
		_ = dump.Close()
		return err // an event that cannot be built
	}
	sum := sha256.New()
	n, err := copyTee(dump, sum, targets)
	if cerr := dump.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		abortAll(ctx, targets)
		err = fmt.Errorf("dump the pool database of %s: %w", name, err)
		for _, t := range targets {
			terr := err
			if t.err != nil { // this remote's own failure, not only that every remote failed
				terr = fmt.Errorf("write %s: %w", t.id, t.err)
			}
			if ferr := r.fail(src, t.rm.Name(), terr); ferr != nil {
				return ferr
			}
		}
		return nil
	}
	for _, t := range targets {
		if err := r.commit(ctx, src, t, n, hex.EncodeToString(sum.Sum(nil)), start); err != nil {
			return err
		}
	}
	return nil
}

// open logs in to pool name and reads its pool and master records.
func (r *run) open(ctx context.Context, name string) (*xapi.Client, source, error) {
	src := source{name: name}
	c, err := r.h.Pools.Client(ctx, name)
	if err != nil {
		return nil, src, err
	}
	ref, p, err := c.Pool(ctx)
	if err != nil {
		return nil, src, err
	}
	src.uuid = p.UUID
	if src.pool, err = rawRecord(ctx, c, "pool.get_record", string(ref)); err != nil {
		return nil, src, err
	}
	if src.master, err = rawRecord(ctx, c, "host.get_record", string(p.Master)); err != nil {
		return nil, src, err
	}
	return c, src, nil
}

// rawRecord is an XAPI record as JSON, as Xen Orchestra stores it.
func rawRecord(ctx context.Context, c *xapi.Client, method, ref string) (json.RawMessage, error) {
	rec, err := c.Call(ctx, method, ref)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, ref, err)
	}
	return b, nil
}

// failAll reports the pool failed on every remote of the job.
func (r *run) failAll(src source, err error) error {
	for _, name := range r.job.Remotes {
		if e := r.fail(src, name, err); e != nil {
			return e
		}
	}
	return nil
}

// fail reports the pool failed on one remote.
func (r *run) fail(src source, remoteName string, err error) error {
	r.failed++
	r.h.log().Warn("pool metadata backup failed", "job", r.due.Job, "pool", src.name, "remote", remoteName, "err", err)
	if src.uuid != "" {
		r.results = append(r.results, events.VMResult{VMUUID: src.uuid, VMName: "pool " + src.name + " to " + remoteName,
			Status: events.StatusFailure, Error: events.Reason(err)})
	}
	return r.add(events.DeriveID("metadata.failed", r.due.RunID, src.name, remoteName), events.MetadataFailed{
		RunID: r.due.RunID, Job: r.due.Job, Schedule: r.due.Schedule, Pool: src.name, PoolUUID: src.uuid,
		Remote: remoteName, Error: events.Reason(err)})
}

// finish adds run.completed: success when every pool reached every remote,
// failure when none did, partial otherwise.
func (r *run) finish(start time.Time) error {
	status := events.StatusSuccess
	switch {
	case r.failed > 0 && r.succeeded == 0:
		status = events.StatusFailure
	case r.failed > 0:
		status = events.StatusPartial
	}
	return r.add(events.DeriveID("run.completed", r.due.RunID), events.RunCompleted{RunID: r.due.RunID, Job: r.due.Job,
		Schedule: r.due.Schedule, Status: status, DurationMS: r.h.now().Sub(start).Milliseconds(), Results: r.results})
}
