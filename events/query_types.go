package events

import "time"

// JobInfo is a configured job, as the jobs query answers it (`xbr jobs ls`,
// `xbr run`).
type JobInfo struct {
	Name      string         `json:"name"`
	Mode      string         `json:"mode"`
	Pools     []string       `json:"pools"`
	Remotes   []string       `json:"remotes,omitempty"`
	Codec     string         `json:"codec"`
	Schedules []ScheduleInfo `json:"schedules"`
}

// ScheduleInfo is one schedule of a job.
type ScheduleInfo struct {
	Name      string    `json:"name"`
	Cron      string    `json:"cron"`
	Timezone  string    `json:"timezone"`
	Enabled   bool      `json:"enabled"`
	Retention int       `json:"retention,omitempty"`
	Next      time.Time `json:"next,omitzero"`
}

// DRListRequest asks the dr.ls query for the copies on the standby pools.
type DRListRequest struct {
	Pool string `json:"pool,omitempty"` // one configured pool; "" = every replicate job's target
	VM   string `json:"vm,omitempty"`   // only copies of this VM (uuid, copy uuid or name)
}

// DRCopy is a copy on a standby pool, as the dr.ls query answers it, with
// its state and its age (the recovery point's distance to now).
type DRCopy struct {
	CopyRecord
	State      string `json:"state"` // DRStateStandby, DRStateFailedOver or DRStateInterrupted
	AgeSeconds int64  `json:"age_seconds"`
}

// CopyRecord is what a copy on a standby pool records of itself (its name
// and other_config keys, its power state and blocked operations).
type CopyRecord struct {
	UUID       string    `json:"copy_uuid"`
	Name       string    `json:"copy_name"`
	Pool       string    `json:"pool,omitempty"` // set by callers that know it
	VMUUID     string    `json:"vm_uuid"`
	VMName     string    `json:"vm_name,omitempty"` // from the copy's name
	Job        string    `json:"job"`               // the job's name
	Schedule   string    `json:"schedule"`          // the schedule's name
	SR         string    `json:"sr,omitempty"`      // empty: an interrupted transfer
	Datetime   time.Time `json:"datetime"`          // the recovery point
	Run        string    `json:"run_id,omitempty"`
	PowerState string    `json:"power_state"`
	// StartBlocked: the copy is still a standby copy (not failed over).
	StartBlocked bool      `json:"start_blocked"`
	Bytes        int64     `json:"bytes,omitempty"`
	DurationMS   int64     `json:"duration_ms,omitempty"`
	Completed    time.Time `json:"completed,omitzero"`
	// JobID and ScheduleID are what xo:backup:job and xo:backup:schedule
	// hold: the ids, or the names on copies made before xbr wrote ids.
	JobID      string `json:"job_id,omitempty"`
	ScheduleID string `json:"schedule_id,omitempty"`
}

// Copy states in a dr.ls answer.
const (
	DRStateStandby     = "standby"
	DRStateFailedOver  = "failed-over"
	DRStateInterrupted = "interrupted"
)
