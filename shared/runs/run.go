package runs

import (
	"errors"
	"fmt"
	"time"

	"xbr/events"
)

// VM states within a run.
const (
	VMQueued = "queued" // waiting for a free slot
	VMActive = "active" // its request is published
	VMDone   = "done"   // it has a result
)

// Run states.
const (
	StateRunning = "running"
	StateDone    = "done"
)

// VM is one VM of a run.
type VM struct {
	UUID  string `json:"vm_uuid"`
	Name  string `json:"vm_name,omitempty"`
	Pool  string `json:"pool"`
	State string `json:"state"`
	// ReleasedBy is the VM whose end made this one active; "" for the VMs
	// that started with the run.
	ReleasedBy string `json:"released_by,omitempty"`
	// Attempts are the backup timestamps of the attempts on this VM, so a
	// retry or a redelivery can find and remove what they left.
	Attempts []string         `json:"attempts,omitempty"`
	Result   *events.VMResult `json:"result,omitempty"`
	// Planned: the result was decided when the run started (a listed VM that
	// cannot be backed up); no request was ever made for it.
	Planned bool `json:"planned,omitempty"`
}

// Run is the recorded state of one run of a job.
type Run struct {
	ID          string    `json:"run_id"`
	Job         string    `json:"job"`
	Schedule    string    `json:"schedule"`
	Mode        string    `json:"mode"`
	FireTime    time.Time `json:"fire_time"`
	StartedAt   time.Time `json:"started_at"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	Concurrency int       `json:"concurrency"`
	State       string    `json:"state"`
	Status      string    `json:"status,omitempty"` // once done: success, failure, partial, skipped, interrupted
	Reason      string    `json:"reason,omitempty"`
	VMs         []VM      `json:"vms,omitempty"`
}

// Fire is one fire of a job's schedule, as the planner received it.
type Fire struct {
	RunID     string
	Job       string
	Schedule  string
	Mode      string
	FireTime  time.Time
	OnOverlap string // "skip" (default) or "queue"
	// Delivery is the delivery count of the fire's message (1 on its first
	// delivery; 0 when not known). The job's lock records the one that
	// took it (Lock.Delivery).
	Delivery uint64
}

// ErrNotFound: no run with this id is recorded.
var ErrNotFound = errors.New("run not found")

// BusyError is returned by Admit for a queued fire while another run of the
// job is active: the caller retries later.
type BusyError struct {
	Job, Holder string
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("job %s is already running (run %s): fire queued", e.Job, e.Holder)
}

// Done reports whether the run has ended.
func (r Run) Done() bool { return r.State == StateDone }

// VM returns the run's VM with that uuid.
func (r Run) VM(uuid string) (VM, bool) {
	for _, v := range r.VMs {
		if v.UUID == uuid {
			return v, true
		}
	}
	return VM{}, false
}

// Initial returns the VMs that became active when the run started.
func (r Run) Initial() []VM { return r.ReleasedBy("") }

// ReleasedBy returns the VMs made active by the end of VM uuid ("" for the
// VMs that started with the run). They are not necessarily still active.
func (r Run) ReleasedBy(uuid string) []VM {
	var out []VM
	for _, v := range r.VMs {
		if v.State != VMQueued && !v.Planned && v.ReleasedBy == uuid {
			out = append(out, v)
		}
	}
	return out
}

// StartedEvent is the run.started payload of r.
func (r Run) StartedEvent() events.RunStarted {
	p := events.RunStarted{RunID: r.ID, Job: r.Job, Schedule: r.Schedule, Mode: r.Mode, FireTime: r.FireTime}
	for _, v := range r.VMs {
		p.VMs = append(p.VMs, events.RunVM{VMUUID: v.UUID, VMName: v.Name, Pool: v.Pool})
	}
	return p
}

// CompletedEvent is the run.completed payload of a run that is done. VMs
// without a result (an interrupted run) are reported interrupted.
func (r Run) CompletedEvent() events.RunCompleted {
	p := events.RunCompleted{RunID: r.ID, Job: r.Job, Schedule: r.Schedule, Status: r.Status, Reason: r.Reason}
	if !r.EndedAt.IsZero() && r.EndedAt.After(r.StartedAt) {
		p.DurationMS = r.EndedAt.Sub(r.StartedAt).Milliseconds()
	}
	for _, v := range r.VMs {
		res := events.VMResult{VMUUID: v.UUID, VMName: v.Name, Status: events.StatusInterrupted}
		if v.Result != nil {
			res = *v.Result
		}
		p.Results = append(p.Results, res)
	}
	// A run of hundreds of failed VMs made one too large to publish, and the run never
	// completed.
	events.BoundResultErrors(p.Results)
	return p
}

// newRun builds a running run of f whose first concurrency VMs are active
// (0 = all); VMs that come with a result are done from the start.
func newRun(f Fire, concurrency int, vms []VM, now time.Time) Run {
	r := Run{ID: f.RunID, Job: f.Job, Schedule: f.Schedule, Mode: f.Mode, FireTime: f.FireTime,
		StartedAt: now, Concurrency: concurrency, State: StateRunning}
	for _, v := range vms {
		v.State, v.ReleasedBy, v.Attempts, v.Planned = VMQueued, "", nil, v.Result != nil
		if v.Planned {
			v.State = VMDone
		}
		r.VMs = append(r.VMs, v)
	}
	for i := range r.VMs {
		if r.VMs[i].State == VMQueued && (concurrency <= 0 || r.active() < concurrency) {
			r.VMs[i].State = VMActive
		}
	}
	r.finishIfDone(now)
	return r
}

func (r *Run) active() int {
	n := 0
	for _, v := range r.VMs {
		if v.State == VMActive {
			n++
		}
	}
	return n
}

// finishIfDone ends the run when no VM is left to do.
func (r *Run) finishIfDone(now time.Time) {
	if r.Done() {
		return
	}
	succ, fail := 0, 0
	for _, v := range r.VMs {
		if v.State != VMDone {
			return
		}
		s, f := tally(v.Result)
		succ, fail = succ+s, fail+f
	}
	r.end(len(r.VMs), succ, fail, now)
}

// tally counts a VM's result: 1, 0 for a success, 0, 1 for a failure (or
// no result), 0, 0 for a skip.
func tally(res *events.VMResult) (succ, fail int) {
	switch {
	case res != nil && res.Status == events.StatusSuccess:
		return 1, 0
	case res != nil && res.Status == events.StatusSkipped:
		return 0, 0
	default:
		return 0, 1
	}
}

// end ends the run of n VMs, succ of which succeeded and fail failed (the
// others were skipped), with the status that makes.
func (r *Run) end(n, succ, fail int, now time.Time) {
	r.State, r.EndedAt = StateDone, now
	switch {
	case n == 0:
		r.Status, r.Reason = events.StatusSkipped, "no VM selected"
	case succ == 0 && fail == 0:
		r.Status, r.Reason = events.StatusSkipped, "every VM was skipped"
	case fail == 0:
		r.Status = events.StatusSuccess
	case succ == 0:
		r.Status = events.StatusFailure
	default:
		r.Status = events.StatusPartial
	}
}

// finish records res for its VM and activates the next queued VM. It reports
// whether r changed; an unknown VM is an error.
func (r *Run) finish(res events.VMResult, now time.Time) (bool, error) {
	i := r.index(res.VMUUID)
	if i < 0 {
		return false, fmt.Errorf("run %s has no VM %s", r.ID, res.VMUUID)
	}
	if r.Done() || r.VMs[i].State == VMDone {
		return false, nil
	}
	r.VMs[i].State, r.VMs[i].Result = VMDone, &res
	for j := range r.VMs {
		if r.VMs[j].State == VMQueued {
			r.VMs[j].State, r.VMs[j].ReleasedBy = VMActive, res.VMUUID
			break
		}
	}
	r.finishIfDone(now)
	return true, nil
}

func (r *Run) index(uuid string) int {
	for i, v := range r.VMs {
		if v.UUID == uuid {
			return i
		}
	}
	return -1
}
