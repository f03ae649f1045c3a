package events

import "time"

// Job modes. A schedule.due's mode is not limited to these: a reader
// accepts any mode token (a later release adds modes, e.g. incremental).
const (
	ModeFull      = "full"
	ModeSnapshot  = "snapshot"
	ModeReplicate = "replicate"
	ModeVerify    = "verify"
	// ModeIncremental jobs store restore points in a chunk repository.
	ModeIncremental = "incremental"
	// ModeMirror jobs copy restore points between repositories; ModeGC
	// jobs collect a repository's garbage.
	ModeMirror = "mirror"
	ModeGC     = "gc"
	// ModeMetadata jobs back up pool databases (events contract 2.3.0).
	ModeMetadata = "metadata"
)

// Run statuses (Xen Orchestra's task statuses).
const (
	StatusSuccess     = "success"
	StatusFailure     = "failure"
	StatusPartial     = "partial"
	StatusSkipped     = "skipped"
	StatusInterrupted = "interrupted"
)

// ScheduleDue: a schedule fired. Its event id is DeriveID(job, schedule,
// fire time) so every timer replica publishes the same event.
//
// Mode is the job's mode and the first key of the subject
// (<prefix>.schedule.due.<mode>.<job>.<schedule>), so each planner's
// consumer reads the fires of its own mode only. Every new fire carries it
// (New refuses one without); fires stored before events contract 2.0.0
// have none and still decode.
type ScheduleDue struct {
	RunID       string    `json:"run_id"`
	Job         string    `json:"job"`
	Schedule    string    `json:"schedule"`
	Mode        string    `json:"mode,omitempty"`
	FireTime    time.Time `json:"fire_time"`
	Manual      bool      `json:"manual,omitempty"`
	RequestedBy string    `json:"requested_by,omitempty"`
}

func (p ScheduleDue) EventType() Type         { return TypeScheduleDue }
func (p ScheduleDue) SubjectKeys() []string   { return []string{p.Mode, p.Job, p.Schedule} }
func (p ScheduleDue) scope() (string, string) { return p.RunID, p.Job }

func (p ScheduleDue) Validate() error {
	c := checker{t: p.EventType()}
	c.id("run_id", p.RunID)
	c.name("job", p.Job)
	c.name("schedule", p.Schedule)
	if p.Mode != "" {
		c.mode("mode", p.Mode)
	}
	c.time("fire_time", p.FireTime)
	c.text("requested_by", p.RequestedBy)
	return c.err()
}

// validateNew: a fire published now names its mode, or no planner would
// read it.
func (p ScheduleDue) validateNew() error {
	if p.Mode == "" {
		c := checker{t: p.EventType()}
		c.fail("mode", "", "is required in a new fire (the planners read the fires of their mode)")
		return c.err()
	}
	return nil
}

// RunVM is a VM selected by a run. Pool is the pool the VM is on; in a
// mirror run, which reads a repository and no pool, it is the source
// remote the VM's restore points are read from.
type RunVM struct {
	VMUUID string `json:"vm_uuid"`
	VMName string `json:"vm_name,omitempty"`
	Pool   string `json:"pool"`
}

// RunStarted: a run began with the VMs it selected.
type RunStarted struct {
	RunID    string    `json:"run_id"`
	Job      string    `json:"job"`
	Schedule string    `json:"schedule"`
	Mode     string    `json:"mode"`
	FireTime time.Time `json:"fire_time"`
	VMs      []RunVM   `json:"vms,omitempty"`
}

func (p RunStarted) EventType() Type         { return TypeRunStarted }
func (p RunStarted) SubjectKeys() []string   { return []string{p.Job, p.RunID} }
func (p RunStarted) scope() (string, string) { return p.RunID, p.Job }

func (p RunStarted) Validate() error {
	c := checker{t: p.EventType()}
	c.id("run_id", p.RunID)
	c.name("job", p.Job)
	c.name("schedule", p.Schedule)
	c.oneOf("mode", p.Mode, ModeFull, ModeSnapshot, ModeReplicate, ModeIncremental, ModeMirror, ModeGC, ModeMetadata)
	c.time("fire_time", p.FireTime)
	for i, vm := range p.VMs {
		c.uuid(field("vms", i, "vm_uuid"), vm.VMUUID)
		c.text(field("vms", i, "vm_name"), vm.VMName)
		c.name(field("vms", i, "pool"), vm.Pool)
	}
	return c.err()
}

// VMResult is one VM's outcome in a run.
type VMResult struct {
	VMUUID   string `json:"vm_uuid"`
	VMName   string `json:"vm_name,omitempty"`
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
	Size     int64  `json:"size,omitempty"`
	BackupID string `json:"backup_id,omitempty"`
}

// BoundResultErrors cuts the errors of results so that together they stay within 384 KiB
// (between 96 and 512 bytes each) and a run.completed of thousands of VMs stays
// publishable (NATS takes 1 MiB by default). Each VM's or backup's own failed event keeps
// its whole error.
func BoundResultErrors(results []VMResult) {
	const budget, most, least = 384 << 10, 512, 96
	each := min(most, max(least, budget/max(1, len(results))))
	for i := range results {
		results[i].Error = ClipReason(results[i].Error, each)
	}
}

// RunCompleted: a run ended. Status is success, failure, partial or
// skipped (with Reason, e.g. "already running", "no VM selected").
type RunCompleted struct {
	RunID      string     `json:"run_id"`
	Job        string     `json:"job"`
	Schedule   string     `json:"schedule"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Results    []VMResult `json:"results,omitempty"`
}

func (p RunCompleted) EventType() Type         { return TypeRunCompleted }
func (p RunCompleted) SubjectKeys() []string   { return []string{p.Job, p.RunID} }
func (p RunCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p RunCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.id("run_id", p.RunID)
	c.name("job", p.Job)
	c.name("schedule", p.Schedule)
	c.oneOf("status", p.Status, StatusSuccess, StatusFailure, StatusPartial, StatusSkipped, StatusInterrupted)
	if p.Status == StatusSkipped && p.Reason == "" {
		c.fail("reason", "", "is required when status is skipped")
	}
	c.reason("reason", p.Reason)
	c.nonNegative("duration_ms", p.DurationMS)
	for i, r := range p.Results {
		c.uuid(field("results", i, "vm_uuid"), r.VMUUID)
		c.text(field("results", i, "vm_name"), r.VMName)
		c.oneOf(field("results", i, "status"), r.Status, StatusSuccess, StatusFailure, StatusSkipped, StatusInterrupted)
		c.nonNegative(field("results", i, "size"), r.Size)
		if r.BackupID != "" {
			c.backupID(field("results", i, "backup_id"), r.BackupID)
		}
	}
	return c.err()
}
