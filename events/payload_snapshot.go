package events

import "time"

// SnapshotRequested: take a rolling snapshot of one VM; Retention is the
// number of snapshots kept per VM, job and schedule.
type SnapshotRequested struct {
	RunID     string    `json:"run_id"`
	Job       string    `json:"job"`
	Schedule  string    `json:"schedule"`
	FireTime  time.Time `json:"fire_time"`
	VMUUID    string    `json:"vm_uuid"`
	VMName    string    `json:"vm_name,omitempty"`
	Pool      string    `json:"pool"`
	Retention int64     `json:"retention"`
}

func (p SnapshotRequested) EventType() Type         { return TypeSnapshotRequested }
func (p SnapshotRequested) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p SnapshotRequested) scope() (string, string) { return p.RunID, p.Job }

func (p SnapshotRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.time("fire_time", p.FireTime)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.nonNegative("retention", p.Retention)
	return c.err()
}

// SnapshotCompleted: the snapshot exists, with XO's other_config keys.
type SnapshotCompleted struct {
	RunID        string `json:"run_id"`
	Job          string `json:"job"`
	Schedule     string `json:"schedule"`
	VMUUID       string `json:"vm_uuid"`
	VMName       string `json:"vm_name,omitempty"`
	Pool         string `json:"pool"`
	SnapshotUUID string `json:"snapshot_uuid"`
	SnapshotName string `json:"snapshot_name,omitempty"`
	Timestamp    string `json:"timestamp"`
	DurationMS   int64  `json:"duration_ms"`
}

func (p SnapshotCompleted) EventType() Type         { return TypeSnapshotCompleted }
func (p SnapshotCompleted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p SnapshotCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p SnapshotCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.uuid("snapshot_uuid", p.SnapshotUUID)
	c.text("snapshot_name", p.SnapshotName)
	c.xoTime("timestamp", p.Timestamp)
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}

// SnapshotFailed: the snapshot was not taken.
type SnapshotFailed struct {
	RunID    string `json:"run_id"`
	Job      string `json:"job"`
	Schedule string `json:"schedule"`
	VMUUID   string `json:"vm_uuid"`
	VMName   string `json:"vm_name,omitempty"`
	Pool     string `json:"pool"`
	Error    string `json:"error"`
}

func (p SnapshotFailed) EventType() Type         { return TypeSnapshotFailed }
func (p SnapshotFailed) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p SnapshotFailed) scope() (string, string) { return p.RunID, p.Job }

func (p SnapshotFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.errorText("error", p.Error)
	return c.err()
}
