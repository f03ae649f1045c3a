package events

import "time"

// ReplicateRequested: replicate one VM of a run to the standby pool. It is
// the work item of the replicate worker: the planner publishes one per VM
// the run admits, the runner one per VM a finished VM releases.
type ReplicateRequested struct {
	RunID      string    `json:"run_id"`
	Job        string    `json:"job"`
	Schedule   string    `json:"schedule"`
	FireTime   time.Time `json:"fire_time"`
	VMUUID     string    `json:"vm_uuid"`
	VMName     string    `json:"vm_name,omitempty"`
	Pool       string    `json:"pool"`
	TargetPool string    `json:"target_pool"`
	TargetSR   string    `json:"target_sr"`
}

func (p ReplicateRequested) EventType() Type         { return TypeReplicateRequested }
func (p ReplicateRequested) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ReplicateRequested) scope() (string, string) { return p.RunID, p.Job }

func (p ReplicateRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.time("fire_time", p.FireTime)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.name("target_pool", p.TargetPool)
	c.name("target_sr", p.TargetSR)
	return c.err()
}

// ReplicateStarted: the worker began an attempt at replicating one VM, as
// export.started does for a backup. Until events contract 2.0.0 it was the
// work item itself (published when the run released the VM, without
// attempt); ReplicateRequested is now.
type ReplicateStarted struct {
	RunID      string `json:"run_id"`
	Job        string `json:"job"`
	Schedule   string `json:"schedule"`
	VMUUID     string `json:"vm_uuid"`
	VMName     string `json:"vm_name,omitempty"`
	Pool       string `json:"pool"`
	TargetPool string `json:"target_pool"`
	TargetSR   string `json:"target_sr"`
	Attempt    int64  `json:"attempt,omitempty"`
}

func (p ReplicateStarted) EventType() Type         { return TypeReplicateStarted }
func (p ReplicateStarted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ReplicateStarted) scope() (string, string) { return p.RunID, p.Job }

func (p ReplicateStarted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.name("target_pool", p.TargetPool)
	c.name("target_sr", p.TargetSR)
	c.nonNegative("attempt", p.Attempt)
	return c.err()
}

// ReplicateProgress: bytes transferred so far.
type ReplicateProgress struct {
	RunID  string `json:"run_id"`
	Job    string `json:"job"`
	VMUUID string `json:"vm_uuid"`
	Transfer
}

func (p ReplicateProgress) EventType() Type         { return TypeReplicateProgress }
func (p ReplicateProgress) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ReplicateProgress) scope() (string, string) { return p.RunID, p.Job }

func (p ReplicateProgress) Validate() error {
	c := checker{t: p.EventType()}
	c.id("run_id", p.RunID)
	c.name("job", p.Job)
	c.uuid("vm_uuid", p.VMUUID)
	c.transfer(p.Transfer)
	return c.err()
}

// ReplicateCompleted: a start-blocked copy is ready on the standby pool.
type ReplicateCompleted struct {
	RunID          string `json:"run_id"`
	Job            string `json:"job"`
	Schedule       string `json:"schedule"`
	VMUUID         string `json:"vm_uuid"`
	VMName         string `json:"vm_name,omitempty"`
	Pool           string `json:"pool"`
	TargetPool     string `json:"target_pool"`
	TargetSR       string `json:"target_sr"`
	CopyUUID       string `json:"copy_uuid"`
	CopyName       string `json:"copy_name"`
	Timestamp      string `json:"timestamp"`
	Bytes          int64  `json:"bytes"`
	DurationMS     int64  `json:"duration_ms"`
	BytesPerSecond int64  `json:"bytes_per_second"`
}

func (p ReplicateCompleted) EventType() Type         { return TypeReplicateCompleted }
func (p ReplicateCompleted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ReplicateCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p ReplicateCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.name("target_pool", p.TargetPool)
	c.name("target_sr", p.TargetSR)
	c.uuid("copy_uuid", p.CopyUUID)
	c.name("copy_name", p.CopyName)
	c.xoTime("timestamp", p.Timestamp)
	c.nonNegative("bytes", p.Bytes)
	c.nonNegative("duration_ms", p.DurationMS)
	c.nonNegative("bytes_per_second", p.BytesPerSecond)
	return c.err()
}

// ReplicateFailed: no new copy; the previous copy is kept.
type ReplicateFailed struct {
	RunID      string `json:"run_id"`
	Job        string `json:"job"`
	Schedule   string `json:"schedule"`
	VMUUID     string `json:"vm_uuid"`
	VMName     string `json:"vm_name,omitempty"`
	Pool       string `json:"pool"`
	TargetPool string `json:"target_pool"`
	TargetSR   string `json:"target_sr"`
	Error      string `json:"error"`
}

func (p ReplicateFailed) EventType() Type         { return TypeReplicateFailed }
func (p ReplicateFailed) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ReplicateFailed) scope() (string, string) { return p.RunID, p.Job }

func (p ReplicateFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.name("target_pool", p.TargetPool)
	c.name("target_sr", p.TargetSR)
	c.errorText("error", p.Error)
	return c.err()
}
