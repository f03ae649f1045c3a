package restoreclient

import (
	"time"

	"xbr/events"
)

// State is where a restore is.
type State string

// The states of a restore, in order.
const (
	StatePending   State = "pending"   // requested; no worker took it yet
	StateRunning   State = "running"   // a worker is streaming it into the pool
	StateCompleted State = "completed" // the backup is a new VM
	StateFailed    State = "failed"    // it failed and left no VM behind
)

// Status is a restore as its events tell it. Its JSON is what
// GET /v1/restores/<id> answers.
type Status struct {
	RequestID   string `json:"id"`
	State       State  `json:"status"`
	BackupID    string `json:"backup_id,omitempty"`
	Pool        string `json:"pool,omitempty"`
	SR          string `json:"sr,omitempty"`
	Name        string `json:"name,omitempty"` // the requested name, if any
	Start       bool   `json:"start,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`

	Bytes          int64   `json:"bytes"`
	TotalBytes     int64   `json:"total_bytes,omitempty"`
	BytesPerSecond int64   `json:"bytes_per_second,omitempty"`
	ETASeconds     int64   `json:"eta_seconds,omitempty"`
	Percent        float64 `json:"percent"` // 0..100; 100 once completed

	NewVMUUID  string `json:"new_vm_uuid,omitempty"`
	NewVMName  string `json:"new_vm_name,omitempty"`
	VMStarted  bool   `json:"vm_started,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	Error      string `json:"error,omitempty"`

	RequestedAt time.Time `json:"requested_at,omitzero"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
}

// Done reports whether the restore ended (completed or failed).
func (s Status) Done() bool { return s.State == StateCompleted || s.State == StateFailed }

// Apply folds one event into s and reports whether it changed s. Events of
// other requests (when s.RequestID is set) or other types are ignored, and
// so are started/progress events once the restore is done (a late progress
// event never turns a completed restore back into a running one).
func (s *Status) Apply(r events.Received) bool {
	at := r.Event.Time()
	switch p := r.Payload.(type) {
	case events.RestoreRequested:
		if !s.mine(p.RequestID) {
			return false
		}
		s.BackupID, s.Pool, s.SR, s.Name, s.Start, s.RequestedBy = p.BackupID, p.Pool, p.SR, p.Name, p.Start, p.RequestedBy
		s.RequestedAt = at
		if s.State == "" {
			s.State = StatePending
		}
	case events.RestoreStarted:
		if !s.mine(p.RequestID) || s.Done() {
			return false
		}
		s.State, s.StartedAt, s.TotalBytes = StateRunning, at, p.TotalBytes
		s.fill(p.BackupID, p.Pool, p.SR)
	case events.RestoreProgress:
		if !s.mine(p.RequestID) || s.Done() || at.Before(s.UpdatedAt) {
			return false
		}
		s.State = StateRunning
		s.Bytes, s.BytesPerSecond, s.ETASeconds = p.Bytes, p.BytesPerSecond, p.ETASeconds
		if p.TotalBytes > 0 {
			s.TotalBytes = p.TotalBytes
		}
	case events.RestoreCompleted:
		if !s.mine(p.RequestID) {
			return false
		}
		s.completed(p, at)
	case events.RestoreFailed:
		if !s.mine(p.RequestID) || s.State == StateCompleted {
			return false
		}
		s.State, s.Error, s.FinishedAt, s.ETASeconds = StateFailed, p.Error, at, 0
		s.fill(p.BackupID, p.Pool, "")
	default:
		return false
	}
	s.UpdatedAt = maxTime(s.UpdatedAt, at)
	s.Percent = s.percent()
	return true
}

func (s *Status) completed(p events.RestoreCompleted, at time.Time) {
	s.State, s.FinishedAt, s.Error, s.ETASeconds = StateCompleted, at, "", 0
	s.NewVMUUID, s.NewVMName, s.VMStarted = p.NewVMUUID, p.NewVMName, p.Started
	s.Bytes, s.BytesPerSecond, s.DurationMS = p.Bytes, p.BytesPerSecond, p.DurationMS
	if s.TotalBytes == 0 {
		s.TotalBytes = p.Bytes
	}
	s.fill(p.BackupID, p.Pool, p.SR)
}

// mine adopts id when s has none yet, else checks it.
func (s *Status) mine(id string) bool {
	if s.RequestID == "" {
		s.RequestID = id
	}
	return s.RequestID == id
}

func (s *Status) fill(backup, pool, sr string) {
	if s.BackupID == "" {
		s.BackupID = backup
	}
	if s.Pool == "" {
		s.Pool = pool
	}
	if sr != "" {
		s.SR = sr
	}
}

func (s *Status) percent() float64 {
	switch {
	case s.State == StateCompleted:
		return 100
	case s.TotalBytes <= 0:
		return 0
	}
	return min(100, float64(s.Bytes)*100/float64(s.TotalBytes))
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
