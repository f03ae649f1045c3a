package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// Overlap policies (config.OverlapSkip and config.OverlapQueue).
const (
	OverlapSkip  = "skip"
	OverlapQueue = "queue"
)

// ErrNotHolder: the job's lock is not held by this run (it ended, or a
// later fire took the lock over after it went stale).
var ErrNotHolder = errors.New("the job's lock is not held by this run")

// Lock is the record of a job's lock.
type Lock struct {
	RunID    string    `json:"run_id"`
	Job      string    `json:"job"`
	Schedule string    `json:"schedule"`
	Acquired time.Time `json:"acquired"`
	Renewed  time.Time `json:"renewed"`
	// Delivery is the delivery count of the fire's message when it took
	// the lock (Fire.Delivery): its planner counts its tries from there
	// (Admission.Tries), so the deliveries a queued fire spent waiting do
	// not count.
	Delivery uint64 `json:"delivery,omitempty"`
	// TookOver is the stale lock this one took over. Every admission of
	// the fire interrupts that lock's run again (a no-op once done) and
	// returns it, so its run.completed is published even when the first
	// admission's events were lost, or the planner died before it
	// interrupted the run.
	TookOver *Lock `json:"took_over,omitempty"`
}

// tries is how many deliveries of its fire delivery is, counted from the
// one that took lock l (1 for that one); delivery itself when l does not
// say (no lock, or one taken by an earlier xbr).
func (l *Lock) tries(delivery uint64) uint64 {
	if l == nil || l.Delivery == 0 || delivery < l.Delivery {
		return delivery
	}
	return delivery - l.Delivery + 1
}

// Admission is Admit's decision about a fire.
type Admission struct {
	// Run is set when the fire needs no planning: it was decided before (a
	// redelivery; the run may be running or done) or it was skipped now
	// because the job is running. Publish what it says.
	Run *Run
	// Interrupted is set when the fire took over a stale lock, on this
	// delivery or an earlier one: that run is now done with status
	// interrupted; publish its run.completed (again: its id is derived).
	Interrupted *Run
	// Tries is how many deliveries of the fire this one is, counted from
	// the delivery that took the job's lock (1 for that one; see
	// Lock.Delivery); 0 when the fire's delivery is not known.
	Tries uint64
}

// Admit decides what a fire does. With a zero Admission.Run the caller
// holds the job's lock and must plan the run, then call Start (or End). A
// queued fire of a running job gets a *BusyError.
func (c *Coordinator) Admit(ctx context.Context, f Fire) (Admission, error) {
	if h, _, err := c.header(ctx, f.RunID); err == nil {
		r, err := c.full(ctx, h)
		if err != nil {
			return Admission{}, err
		}
		return c.interruptTaken(ctx, h.Lock, Admission{Run: &r, Tries: h.Lock.tries(f.Delivery)})
	} else if !errors.Is(err, ErrNotFound) {
		return Admission{}, err
	}
	mine := &Lock{Delivery: f.Delivery}
	for range casAttempts {
		l, rev, err := c.lock(ctx, f.Job)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			if err := c.putLock(ctx, f, 0, nil); err == nil {
				return Admission{Tries: mine.tries(f.Delivery)}, nil
			} else if !conflict(err) {
				return Admission{}, err
			}
		case err != nil:
			return Admission{}, err
		case l.RunID == f.RunID: // taken by an earlier delivery of this fire
			return c.interruptTaken(ctx, &l, Admission{Tries: l.tries(f.Delivery)})
		case c.now().Sub(l.Renewed) > c.staleAfter:
			if err := c.putLock(ctx, f, rev, &l); err == nil {
				prev, err := c.interrupt(ctx, l, f.RunID)
				return Admission{Interrupted: prev, Tries: mine.tries(f.Delivery)}, err
			} else if !conflict(err) {
				return Admission{}, err
			}
		case f.OnOverlap == OverlapQueue:
			return Admission{}, &BusyError{Job: f.Job, Holder: l.RunID}
		default:
			r, err := c.End(ctx, f, events.StatusSkipped, fmt.Sprintf("already running (run %s)", l.RunID))
			return Admission{Run: &r}, err
		}
	}
	return Admission{}, fmt.Errorf("lock of job %s: still conflicting after %d attempts", f.Job, casAttempts)
}

// interruptTaken completes adm, the admission of the fire holding lock l
// (nil: not known), with the run l took over, interrupted again.
func (c *Coordinator) interruptTaken(ctx context.Context, l *Lock, adm Admission) (Admission, error) {
	if l == nil || l.TookOver == nil {
		return adm, nil
	}
	prev, err := c.interrupt(ctx, *l.TookOver, l.RunID)
	if err != nil {
		return Admission{}, err
	}
	adm.Interrupted = prev
	return adm, nil
}

// interrupt ends the run of a stale lock with status interrupted; a run
// already done is returned as recorded.
func (c *Coordinator) interrupt(ctx context.Context, l Lock, by string) (*Run, error) {
	reason := fmt.Sprintf("no progress since %s; the job's lock was taken over by run %s",
		l.Renewed.UTC().Format(time.RFC3339), by)
	h, err := c.update(ctx, l.RunID, func(r *Run) (bool, error) {
		if r.Done() {
			return false, nil
		}
		r.State, r.Status, r.Reason, r.EndedAt = StateDone, events.StatusInterrupted, reason, c.now()
		return true, nil
	})
	var r Run
	if err == nil {
		r, err = c.full(ctx, h)
	}
	if errors.Is(err, ErrNotFound) { // it crashed before recording its run
		now := c.now()
		r = Run{ID: l.RunID, Job: l.Job, Schedule: l.Schedule, StartedAt: l.Acquired, EndedAt: now,
			State: StateDone, Status: events.StatusInterrupted, Reason: reason}
		data, jerr := json.Marshal(r)
		if jerr != nil {
			return nil, jerr
		}
		if _, err = c.kv.Create(ctx, runKey(r.ID), data); errors.Is(err, jetstream.ErrKeyExists) {
			r, err = c.Get(ctx, r.ID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("interrupt stale run %s: %w", l.RunID, err)
	}
	return &r, nil
}

// Touch renews the job's lock held by runID. It returns ErrNotHolder when
// another run holds it or nobody does.
func (c *Coordinator) Touch(ctx context.Context, job, runID string) error {
	for range casAttempts {
		l, rev, err := c.lock(ctx, job)
		if errors.Is(err, jetstream.ErrKeyNotFound) || err == nil && l.RunID != runID {
			return fmt.Errorf("renew lock of job %s for run %s: %w", job, runID, ErrNotHolder)
		}
		if err != nil {
			return err
		}
		l.Renewed = c.now()
		data, err := json.Marshal(l)
		if err != nil {
			return err
		}
		if _, err = c.kv.Update(ctx, lockKey(job), data, rev); err == nil || !conflict(err) {
			return err
		}
	}
	return fmt.Errorf("renew lock of job %s: still conflicting after %d attempts", job, casAttempts)
}

// Holder returns the run holding the job's lock, "" when none.
func (c *Coordinator) Holder(ctx context.Context, job string) (string, error) {
	l, _, err := c.lock(ctx, job)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	return l.RunID, err
}

// release deletes the job's lock if runID holds it.
func (c *Coordinator) release(ctx context.Context, job, runID string) error {
	for range casAttempts {
		l, rev, err := c.lock(ctx, job)
		if errors.Is(err, jetstream.ErrKeyNotFound) || err == nil && l.RunID != runID {
			return nil
		}
		if err != nil {
			return err
		}
		err = c.kv.Delete(ctx, lockKey(job), jetstream.LastRevision(rev))
		if err == nil || !conflict(err) {
			return err
		}
	}
	return fmt.Errorf("release lock of job %s: still conflicting after %d attempts", job, casAttempts)
}

func (c *Coordinator) lock(ctx context.Context, job string) (Lock, uint64, error) {
	e, err := c.kv.Get(ctx, lockKey(job))
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return Lock{}, 0, err
		}
		return Lock{}, 0, fmt.Errorf("read lock of job %s: %w", job, err)
	}
	var l Lock
	if err := json.Unmarshal(e.Value(), &l); err != nil {
		return Lock{}, 0, fmt.Errorf("decode lock of job %s: %w", job, err)
	}
	return l, e.Revision(), nil
}

// putLock takes the lock for f: a create when rev is 0, else a
// compare-and-set over revision rev of stale, the lock taken over.
func (c *Coordinator) putLock(ctx context.Context, f Fire, rev uint64, stale *Lock) error {
	now := c.now()
	l := Lock{RunID: f.RunID, Job: f.Job, Schedule: f.Schedule, Acquired: now, Renewed: now, Delivery: f.Delivery}
	if stale != nil {
		prev := *stale
		prev.TookOver = nil // its own takeover was settled when it was admitted
		l.TookOver = &prev
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if rev == 0 {
		_, err = c.kv.Create(ctx, lockKey(f.Job), data)
	} else {
		_, err = c.kv.Update(ctx, lockKey(f.Job), data, rev)
	}
	return err
}

func conflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}
