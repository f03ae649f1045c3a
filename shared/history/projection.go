package history

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"xbr/events"
)

// DefaultStaleAfter is how long a run may go without any event before it is
// shown interrupted; it matches shared/runs' lock staleness.
const DefaultStaleAfter = 30 * time.Minute

// Options tune a Projection; the zero value means the defaults in brackets.
type Options struct {
	StaleAfter time.Duration    // [DefaultStaleAfter]
	Now        func() time.Time // the time of replay, for the staleness rule [time.Now]
	// KeepRuns bounds the runs and restores held [DefaultKeepRuns]: beyond
	// it, the ended one with the oldest last event is dropped with its rates
	// (its VMs' newest results stay, in Outcomes; a restore's VM's newest
	// restore, in Restores).
	KeepRuns int
}

// Projection folds events into runs. It is safe for concurrent use.
type Projection struct {
	mu         sync.Mutex
	staleAfter time.Duration
	now        func() time.Time
	runs       map[string]*Run
	rates      map[string][]RatePoint
	seen       map[string]bool
	keys       map[string][]string     // run id -> its entries in seen, dropped with it
	touched    string                  // the run the event being applied is about
	health     map[string]healthRef    // health check id -> its run and VM, until its outcome
	usage      map[string][]UsagePoint // remote -> its newest measurement per UTC day
	outcomes   map[outcomeKey]Run      // the newest VM results of the dropped runs (Outcomes)
	restores   map[string]Run          // restored VM -> its newest dropped restore (Restores)
	keep       int
}

// New returns an empty projection.
func New(o Options) *Projection {
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeepRuns <= 0 {
		o.KeepRuns = DefaultKeepRuns
	}
	return &Projection{staleAfter: o.StaleAfter, now: o.Now, runs: map[string]*Run{},
		rates: map[string][]RatePoint{}, seen: map[string]bool{}, keys: map[string][]string{}, keep: o.KeepRuns,
		health: map[string]healthRef{}, usage: map[string][]UsagePoint{}, outcomes: map[outcomeKey]Run{},
		restores: map[string]Run{}}
}

// Apply folds one event in. Events that are not about a run (or restore)
// are ignored, and so is an event id applied before; a remote's usage is
// kept per day (Usage).
func (p *Projection) Apply(r events.Received) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := r.Payload.(events.RemoteUsage); ok {
		p.applyUsage(u, r.Event.Time().UTC())
		return
	}
	key := r.Event.Type() + "/" + r.Event.ID()
	if p.seen[key] {
		return
	}
	p.touched = ""
	if p.lateProgress(r.Payload) {
		return
	}
	defer p.remember(key)
	at := r.Event.Time().UTC()
	switch pl := r.Payload.(type) {
	case events.ScheduleDue, events.RunStarted, events.RunCompleted:
		p.applyRun(pl, at)
	case events.ExportRequested, events.ExportStarted, events.ExportProgress, events.ExportCompleted, events.ExportFailed:
		p.applyExport(pl, at)
	case events.IncrementalRequested, events.IncrementalStarted, events.IncrementalProgress,
		events.IncrementalCompleted, events.IncrementalFailed:
		p.applyIncremental(pl, at)
	case events.SnapshotRequested, events.SnapshotCompleted, events.SnapshotFailed:
		p.applySnapshot(pl, at)
	case events.PruneCompleted, events.PruneFailed:
		p.applyPrune(pl, at)
	case events.VerifyCompleted, events.VerifyFailed:
		p.applyVerify(pl, at)
	case events.RestoreRequested, events.RestoreStarted, events.RestoreProgress, events.RestoreCompleted, events.RestoreFailed:
		p.applyRestore(pl, at)
	case events.HealthCheckRequested, events.HealthCheckStarted, events.HealthCheckCompleted, events.HealthCheckFailed:
		p.applyHealth(pl, at)
	}
}

// run returns the run id, creating it; every event renews LastEvent.
func (p *Projection) run(id string, at time.Time) *Run {
	p.touched = id
	r, ok := p.runs[id]
	if !ok {
		r = &Run{Task: Task{ID: id, Message: KindRun, Status: StatusPending}}
		p.runs[id] = r
		p.trim()
	}
	r.begin(at)
	if at.After(r.LastEvent) {
		r.LastEvent = at
	}
	return r
}

// vm returns the run's task for a VM, creating it.
func vm(r *Run, uuid, name string) *Task {
	t := r.child(uuid, KindVM)
	t.VMUUID = uuid
	if name != "" {
		t.VMName = name
	}
	return t
}

// rateEvery is the spacing of a run's rate samples per VM: progress events
// come several times a second (for live views), a chart needs fewer.
const rateEvery = time.Second

// rateLookBack bounds the search for a VM's previous sample: its VMs'
// samples interleave, as many as the run streams at once.
const rateLookBack = 64

// addRate keeps pt unless a sample of the same VM less than rateEvery
// apart is among the run's last ones.
func (p *Projection) addRate(id string, pt RatePoint) {
	pts := p.rates[id]
	for i := len(pts) - 1; i >= 0 && i >= len(pts)-rateLookBack; i-- {
		if q := pts[i]; q.VMUUID == pt.VMUUID {
			if d := pt.Time.Sub(q.Time); d < rateEvery && d > -rateEvery {
				return
			}
			break
		}
	}
	p.rates[id] = append(pts, pt)
}

// Runs returns every run, newest first, as of the projection's clock:
// stale pending runs are interrupted (see the package doc).
func (p *Projection) Runs() []Run {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := make([]Run, 0, len(p.runs))
	for _, r := range p.runs {
		out = append(out, p.view(r, now))
	}
	names := VMNames(out)
	for i := range out {
		nameVMs(&out[i].Task, names)
	}
	slices.SortFunc(out, func(a, b Run) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Run returns one run as Runs shows it.
func (p *Projection) Run(id string) (Run, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.runs[id]
	if !ok {
		return Run{}, false
	}
	v := p.view(r, p.now())
	names := map[string]string{}
	for _, r := range p.runs {
		learnNames(&r.Task, names)
	}
	nameVMs(&v.Task, names)
	return v, true
}

// nameVMs names the VM tasks under t that their own events did not name
// (a verify's or a mirror's carry only uuids) as names, learned from the
// other runs, does.
func nameVMs(t *Task, names map[string]string) {
	if t.Message == KindVM && t.VMName == "" {
		t.VMName = names[t.VMUUID]
	}
	for _, c := range t.Tasks {
		nameVMs(c, names)
	}
}

// Rates returns the progress samples of a run (or restore), oldest first.
func (p *Projection) Rates(id string) []RatePoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.rates[id])
	slices.SortStableFunc(out, func(a, b RatePoint) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.VMUUID, b.VMUUID)
	})
	return out
}

// view is a deep copy of r with the interrupted rule and totals applied.
func (p *Projection) view(r *Run, now time.Time) Run {
	v := *r
	v.Task = *r.Task.clone()
	if v.Status == StatusPending && now.Sub(v.LastEvent) > p.staleAfter {
		v.Status = StatusInterrupted
		v.Reason = "no event since " + v.LastEvent.Format(time.RFC3339) + " (more than " +
			p.staleAfter.String() + "): the process running it went away"
	}
	if v.Status != StatusPending {
		v.settle(StatusInterrupted)
	}
	totals(&v.Task)
	return v
}

// totals fills a run's size from its VMs, and its throughput.
func totals(t *Task) {
	if t.Size == 0 {
		for _, c := range t.Tasks {
			t.Size += c.Size
		}
	}
	if t.BytesPerSecond == 0 && t.DurationMS > 0 && t.Message != KindVM {
		t.BytesPerSecond = t.Size * 1000 / t.DurationMS
	}
}
