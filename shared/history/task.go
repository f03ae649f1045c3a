package history

import (
	"time"

	"xbr/events"
)

// Statuses of a task: Xen Orchestra's, plus "partial" for a run where some
// VMs failed, as xbr.run.completed reports it.
const (
	StatusPending     = "pending"
	StatusSuccess     = "success"
	StatusFailure     = "failure"
	StatusPartial     = "partial"
	StatusSkipped     = "skipped"
	StatusInterrupted = "interrupted"
)

// Task messages (XO's task "message").
const (
	KindRun = "backup run"
	// KindReplicateRun is the run of a replicate job: it makes standby
	// copies, not backups.
	KindReplicateRun = "replicate run"
	KindVM           = "backup VM"
	KindSnapshot     = "snapshot"
	KindExport       = "export"
	KindTransfer     = "transfer"
	KindPrune        = "prune"
	KindVerify       = "verify"
	KindRestore      = "restore"
	// KindIncremental is a restore point stored in a chunk repository; its
	// Result names the path taken and what it cost.
	KindIncremental = "incremental"
)

// IsJobRun reports whether a run's message names the run of a job (backup
// or replicate), as opposed to a restore or a health check.
func IsJobRun(message string) bool { return message == KindRun || message == KindReplicateRun }

// runKind is the message of a job's run in mode.
func runKind(mode string) string {
	if mode == events.ModeReplicate {
		return KindReplicateRun
	}
	return KindRun
}

// Task is one node of a run's task tree.
type Task struct {
	ID      string    `json:"id"`
	Message string    `json:"message"`
	Status  string    `json:"status"`
	Start   time.Time `json:"start,omitzero"`
	End     time.Time `json:"end,omitzero"`
	// DurationMS is End-Start, or the duration an event reported.
	DurationMS int64 `json:"duration_ms,omitempty"`
	// Size is the bytes written (transfer, export, VM, run) or read (verify,
	// restore).
	Size int64 `json:"size,omitempty"`
	// BytesPerSecond is the throughput of the task's transfer.
	BytesPerSecond int64  `json:"bytes_per_second,omitempty"`
	Error          string `json:"error,omitempty"`
	Reason         string `json:"reason,omitempty"`
	// What the task is about, where it applies.
	VMUUID   string `json:"vm_uuid,omitempty"`
	VMName   string `json:"vm_name,omitempty"`
	Remote   string `json:"remote,omitempty"`
	BackupID string `json:"backup_id,omitempty"`
	// Result is a short outcome: a snapshot uuid, "deleted 2, kept 7", a
	// SHA-256, a new VM's uuid.
	Result   string   `json:"result,omitempty"`
	Attempts int64    `json:"attempts,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Tasks    []*Task  `json:"tasks,omitempty"`
}

// Run is one run of a job (or one restore) with its task tree.
type Run struct {
	Task
	Job         string `json:"job,omitempty"`
	Schedule    string `json:"schedule,omitempty"`
	Mode        string `json:"mode,omitempty"`
	Manual      bool   `json:"manual,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
	// LastEvent is the time of the newest event about the run.
	LastEvent time.Time `json:"last_event"`
}

// RatePoint is one progress sample of a run's transfer, for a rate chart.
type RatePoint struct {
	Time           time.Time `json:"time"`
	VMUUID         string    `json:"vm_uuid,omitempty"`
	Bytes          int64     `json:"bytes"`
	TotalBytes     int64     `json:"total_bytes,omitempty"`
	BytesPerSecond int64     `json:"bytes_per_second"`
}

// child returns t's child with id, creating it with message when absent.
func (t *Task) child(id, message string) *Task {
	for _, c := range t.Tasks {
		if c.ID == id {
			return c
		}
	}
	c := &Task{ID: id, Message: message, Status: StatusPending}
	t.Tasks = append(t.Tasks, c)
	return c
}

// begin sets the start once.
func (t *Task) begin(at time.Time) {
	if t.Start.IsZero() || at.Before(t.Start) {
		t.Start = at
	}
}

// finish ends the task with status at at; durationMS (if > 0) wins over End-Start.
func (t *Task) finish(status string, at time.Time, durationMS int64) {
	t.Status, t.End = status, at
	switch {
	case durationMS > 0:
		t.DurationMS = durationMS
		if t.Start.IsZero() {
			t.Start = at.Add(-time.Duration(durationMS) * time.Millisecond)
		}
	case !t.Start.IsZero() && !at.Before(t.Start):
		t.DurationMS = at.Sub(t.Start).Milliseconds()
	}
}

func (t *Task) fail(at time.Time, msg string) {
	t.finish(StatusFailure, at, 0)
	t.Error = msg
}

// clone deep-copies the tree.
func (t *Task) clone() *Task {
	c := *t
	c.Warnings = append([]string(nil), t.Warnings...)
	c.Tasks = make([]*Task, len(t.Tasks))
	for i, s := range t.Tasks {
		c.Tasks[i] = s.clone()
	}
	if len(c.Tasks) == 0 {
		c.Tasks = nil
	}
	return &c
}

// settle turns every pending task under t into status (a finished or
// interrupted run leaves nothing pending) and fills run-level totals.
func (t *Task) settle(status string) {
	for _, c := range t.Tasks {
		c.settle(status)
	}
	if t.Status == StatusPending {
		t.Status = status
	}
}
