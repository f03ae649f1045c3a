package history

import (
	"slices"
	"strings"
	"time"

	"xbr/events"
)

// DefaultKeepRuns is how many runs and restores a projection holds: about
// three years of one nightly job, or a month of a few hourly ones. The
// projection of a long-running process (the gateway's page and API) is
// bounded by it; `xbr history` replays the stream and can set more.
const DefaultKeepRuns = 1000

// remember records that the event key was applied, under the run it was
// about; an event about no run is not remembered (applying it again does
// nothing either).
func (p *Projection) remember(key string) {
	if p.touched == "" {
		return
	}
	if _, ok := p.runs[p.touched]; !ok {
		return // dropped by trim while being applied
	}
	p.seen[key] = true
	p.keys[p.touched] = append(p.keys[p.touched], key)
}

// trim drops ended runs, oldest last event first, while more than keep are
// held. Pending runs are not dropped until they are stale (shown
// interrupted). A late lifecycle event about a dropped run starts a
// partial one again, as it would on a stream trimmed by its limits.
func (p *Projection) trim() {
	now := p.now()
	for len(p.runs) > p.keep {
		victim := ""
		for id, r := range p.runs {
			live := r.Status == StatusPending && now.Sub(r.LastEvent) <= p.staleAfter
			if live || id == p.touched {
				continue
			}
			if victim == "" || r.LastEvent.Before(p.runs[victim].LastEvent) {
				victim = id
			}
		}
		if victim == "" {
			return
		}
		p.drop(victim)
	}
}

func (p *Projection) drop(id string) {
	p.keepOutcomes(p.runs[id])
	p.keepRestore(p.runs[id])
	for _, k := range p.keys[id] {
		delete(p.seen, k)
	}
	delete(p.keys, id)
	delete(p.rates, id)
	delete(p.runs, id)
}

// lateProgress reports whether pl is a progress sample of a run the full
// projection does not hold: one dropped by trim, whose samples come late
// on their own stream. Starting it again would hold a partial run, never
// ended, for each; its samples are dropped instead. (A run whose samples
// come before its first lifecycle event loses those, when the projection
// is full.)
func (p *Projection) lateProgress(pl events.Payload) bool {
	var id string
	switch e := pl.(type) {
	case events.ExportProgress:
		id = e.RunID
	case events.RestoreProgress:
		id = e.RequestID
	default:
		return false
	}
	_, held := p.runs[id]
	return !held && len(p.runs) >= p.keep
}

// outcomeKey names a VM's result of one status under one job.
type outcomeKey struct{ job, vm, status string }

// keepOutcomes records, as trim drops run r, each of its VM tasks that is
// the newest of its job, VM and status among the runs dropped so far, in a
// run of its own (r without its other VMs). They are a few per VM and job,
// however many runs go: a VM's newest good copy outlives the runs kept.
func (p *Projection) keepOutcomes(r *Run) {
	if r == nil || r.Job == "" || !IsJobRun(r.Message) {
		return
	}
	v := p.view(r, p.now())
	for _, t := range v.Tasks {
		if t.Message != KindVM || t.VMUUID == "" || t.Status == StatusPending {
			continue
		}
		k := outcomeKey{r.Job, strings.ToLower(t.VMUUID), t.Status}
		if old, ok := p.outcomes[k]; ok && old.vmEnd().After(v.endOf(t)) {
			continue
		}
		one := v
		one.Tasks, one.Size, one.BytesPerSecond = []*Task{t}, t.Size, 0
		p.outcomes[k] = one
	}
}

// endOf is when the VM task t of r ended (the run's end, or its last event,
// when the task has none).
func (r Run) endOf(t *Task) time.Time {
	for _, at := range []time.Time{t.End, r.End, r.LastEvent} {
		if !at.IsZero() {
			return at
		}
	}
	return time.Time{}
}

// vmEnd is endOf the one VM task of a kept outcome.
func (r Run) vmEnd() time.Time { return r.endOf(r.Tasks[0]) }

// Outcomes is, per job, VM and status, the newest VM task of the runs the
// projection dropped to stay within KeepRuns, each in a run of its own
// holding only that VM task, newest first. Runs and then Outcomes give
// every VM's newest result under every job, however many runs ago (what
// shared/protection reads); a run dropped in between is in Outcomes.
func (p *Projection) Outcomes() []Run {
	p.mu.Lock()
	defer p.mu.Unlock()
	return newestFirst(p.outcomes, Run.vmEnd, func(r Run) string { return r.ID + r.Tasks[0].ID })
}

// newestFirst copies the runs kept in m, newest end first (ties by key).
func newestFirst[K comparable](m map[K]Run, end func(Run) time.Time, key func(Run) string) []Run {
	out := make([]Run, 0, len(m))
	for _, r := range m {
		c := r
		c.Task = *r.Task.clone()
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Run) int {
		if c := end(b).Compare(end(a)); c != 0 {
			return c
		}
		return strings.Compare(key(a), key(b))
	})
	return out
}

// keepRestore records, as trim drops restore r, r if it is a successful
// restore and the newest of the VM it created among the restores dropped so
// far. They are one per restored VM, at most KeepRuns of them (the newest),
// however many runs go: a VM restored many runs ago is still known as
// restored, and when (what shared/protection reads to show it new until its
// first copy is due).
func (p *Projection) keepRestore(r *Run) {
	if r == nil || r.End.IsZero() {
		return
	}
	vm := strings.ToLower(restoredVM(r))
	if vm == "" || strings.HasPrefix(r.ID, events.HealthCheckIDPrefix) {
		return // a health check's test VM is destroyed after its check: nothing to show new
	}
	if old, ok := p.restores[vm]; ok && old.End.After(r.End) {
		return
	}
	c := *r
	c.Task = *r.Task.clone()
	p.restores[vm] = c
	if len(p.restores) > p.keep { // every restore makes a new VM: keep the newest KeepRuns
		oldest := ""
		for k, r := range p.restores {
			if o, ok := p.restores[oldest]; oldest == "" || ok && r.End.Before(o.End) {
				oldest = k
			}
		}
		delete(p.restores, oldest)
	}
}

// Restores is, per VM a restore created, the newest successful restore of
// it among those the projection dropped to stay within KeepRuns, newest
// first. Runs and then Restores give every restored VM's newest restore,
// however many runs ago; a restore dropped in between is in Restores.
func (p *Projection) Restores() []Run {
	p.mu.Lock()
	defer p.mu.Unlock()
	return newestFirst(p.restores, func(r Run) time.Time { return r.End }, func(r Run) string { return r.ID })
}
