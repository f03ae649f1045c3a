package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/integrity"
	"xbr/shared/remote"
)

// Name is the function's name: durable consumer and DLQ subject.
const Name = "verify"

// Remotes opens remotes by name (*fn.Remotes).
type Remotes interface {
	Get(ctx context.Context, name string) (remote.Remote, error)
}

// Handler verifies the backups of a verify job's remotes on each fire.
type Handler struct {
	Config   *config.Config
	Remotes  Remotes
	Repos    integrity.Repos // the remotes' incremental repositories [none]
	Subjects events.Subjects
	Log      *slog.Logger     // [discard]
	Now      func() time.Time // [time.Now]
}

var _ bus.Handler = (*Handler)(nil)

// Function is the verify function as `xbr serve` runs it.
func Function() fn.Function {
	return fn.Function{Name: Name, API: API(), Run: func(ctx context.Context, env *fn.Env) error {
		h := &Handler{Config: env.Config, Remotes: env.Remotes, Repos: repos(env), Subjects: env.Subjects,
			Log: env.Log.With(bus.KeyFunction, Name), Now: env.Now}
		return env.Conn.Consume(ctx, bus.ConsumerConfig{Function: Name, Stream: env.Streams.WithDefaults().Events,
			Subjects: []string{Filter(env.Subjects)}, DLQ: env.Subjects,
			AckWait: 2 * time.Minute}, h)
	}}
}

// Filter is what the verify consumer reads: the fires of verify jobs,
// <prefix>.schedule.due.verify.>.
func Filter(s events.Subjects) string { return s.FilterKeys(events.TypeScheduleDue, config.ModeVerify) }

// Handle runs one fire of a verify job. Its consumer reads those only
// (Filter): a fire of another mode or of an unknown job is a permanent
// error that says so; a fire without a mode (events contract 1.x, still
// redelivered after an upgrade) of another mode's job is left alone.
func (h *Handler) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	due, err := events.PayloadAs[events.ScheduleDue](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	job, mine, err := mine(h.Config, due)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	if !mine {
		return nil, nil
	}
	now := h.now()
	if why := h.Config.StaleFire(due, ev.Delivery.Stored, now); why != "" {
		h.log().Info("fire skipped", "job", due.Job, "fire_time", due.FireTime, "reason", why)
		return h.skipped(due, why)
	}
	var results []integrity.Result
	var unread []error // repositories that cannot be read, on the fire's last delivery
	for _, name := range job.Remotes {
		rm, err := h.Remotes.Get(ctx, name)
		if err != nil {
			return nil, bus.Permanent(err)
		}
		opts := integrity.Options{Deep: job.Deep, Now: h.Now}
		res, err := integrity.All(ctx, rm, opts)
		if err != nil {
			return nil, err // the remote cannot be listed: retried
		}
		points, err := integrity.RemotePoints(ctx, h.Repos, name, opts)
		switch {
		case err != nil && !ev.Delivery.Last():
			return nil, err // the repository cannot be read: retried
		case err != nil:
			// A damaged config.json or a wrong key stays so: the run ends, failed, saying so,
			// with what else was verified, instead of a fire dead-lettered with no outcome.
			unread = append(unread, unreadable(name, err))
		}
		results = append(append(results, res...), points...)
	}
	return h.outs(due, results, now, errors.Join(unread...))
}

// skipped is run.completed of fire due, skipped for why.
func (h *Handler) skipped(due events.ScheduleDue, why string) ([]bus.Out, error) {
	done := events.RunCompleted{RunID: due.RunID, Job: due.Job, Schedule: due.Schedule, Status: events.StatusSkipped, Reason: why}
	m, err := h.Subjects.Message(events.Meta{ID: events.DeriveID("run.completed", due.RunID), Source: events.Source(Name), Time: h.now()}, done)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return []bus.Out{m}, nil
}

// outs are the verify events of results and the run's run.completed; unread (nil when
// none) fails the run with its reason.
func (h *Handler) outs(due events.ScheduleDue, results []integrity.Result, start time.Time, unread error) ([]bus.Out, error) {
	var outs []bus.Out
	perVM := vmResults{index: map[string]int{}, failed: map[string]int{}}
	failed, checked := 0, 0
	for _, r := range results {
		if r.Skipped != "" {
			continue // an XO delta backup or an encrypted XO remote: not verified, not failed
		}
		m, err := h.Subjects.Message(events.Meta{ID: r.EventID(due.RunID), Source: events.Source(Name), Time: h.now()},
			r.Payload(due.RunID, due.Job))
		if err != nil {
			return nil, bus.Permanent(err)
		}
		outs = append(outs, m)
		checked++
		if r.Err != nil {
			failed++
		}
		perVM.add(r)
	}
	status, reason := events.StatusSuccess, ""
	switch {
	case unread != nil:
		status, reason = events.StatusFailure, events.Reason(unread)
	case failed > 0 && failed == checked:
		status = events.StatusFailure
	case failed > 0:
		status = events.StatusPartial
	}
	done := events.RunCompleted{RunID: due.RunID, Job: due.Job, Schedule: due.Schedule, Status: status, Reason: reason,
		DurationMS: h.now().Sub(start).Milliseconds(), Results: perVM.results()}
	m, err := h.Subjects.Message(events.Meta{ID: events.DeriveID("run.completed", due.RunID), Source: events.Source(Name), Time: h.now()}, done)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return append(outs, m), nil
}

// vmResults are a verify run's results in run.completed: one per VM, not per
// backup (each backup has its verify event, with its whole error), so that a
// repository of thousands of points does not make one too large to publish.
type vmResults struct {
	list   []events.VMResult
	index  map[string]int // by VM uuid, in list
	failed map[string]int // failed backups by VM uuid
}

// add folds backup result r into its VM's: a failure wins and keeps the first
// error (size 0); the sizes of backups verified add up.
func (v *vmResults) add(r integrity.Result) {
	vr := events.VMResult{VMUUID: r.ID.VM, Status: events.StatusSuccess, Size: r.Bytes, BackupID: r.ID.String()}
	if r.Err != nil {
		vr.Status, vr.Error, vr.Size = events.StatusFailure, r.ErrorText(), 0
		v.failed[vr.VMUUID]++
	}
	i, ok := v.index[vr.VMUUID]
	switch {
	case !ok:
		v.index[vr.VMUUID] = len(v.list)
		v.list = append(v.list, vr)
	case vr.Status == events.StatusFailure && v.list[i].Status != events.StatusFailure:
		v.list[i] = vr
	case v.list[i].Status != events.StatusFailure:
		v.list[i].Size += vr.Size
	}
}

// results are the VMs' results, each failed one saying how many of its
// backups failed, their errors bounded.
func (v *vmResults) results() []events.VMResult {
	for i, r := range v.list {
		if n := v.failed[r.VMUUID]; n > 1 {
			v.list[i].Error = fmt.Sprintf("%d of this VM's backups failed (each has its verify event); the first: %s", n, r.Error)
		}
	}
	events.BoundResultErrors(v.list)
	return v.list
}

// mine returns the verify job of fire due (see Handle).
func mine(c *config.Config, due events.ScheduleDue) (config.Job, bool, error) {
	if due.Mode != "" && due.Mode != config.ModeVerify {
		return config.Job{}, false, fmt.Errorf("schedule.due of mode %q (job %s) reached verify, which reads mode %q",
			due.Mode, due.Job, config.ModeVerify)
	}
	job, ok := c.Job(due.Job)
	switch {
	case !ok:
		return config.Job{}, false, fmt.Errorf("schedule.due for unknown job %q", due.Job)
	case job.Mode == config.ModeVerify:
		return job, true, nil
	case due.Mode == "":
		return config.Job{}, false, nil
	}
	return config.Job{}, false, fmt.Errorf("schedule.due of mode %q for job %s, whose mode is now %q", due.Mode, due.Job, job.Mode)
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
