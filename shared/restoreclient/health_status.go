package restoreclient

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// The states of a health check, in order (HealthStatus.State).
const (
	HealthRequested = "requested" // asked for; the healthcheck function has not started it
	HealthStarted   = "started"   // the test VM exists and is booting
	HealthCompleted = "completed" // the backup booted
	HealthFailed    = "failed"    // it did not prove it boots
)

// HealthStatus is one health check as its events tell it: what the page
// asking for it shows, and the JSON it polls.
type HealthStatus struct {
	RequestID   string `json:"id"`
	State       string `json:"status"`
	BackupID    string `json:"backup_id,omitempty"`
	VMUUID      string `json:"vm_uuid,omitempty"`
	VMName      string `json:"vm_name,omitempty"`
	Pool        string `json:"pool,omitempty"`
	SR          string `json:"sr,omitempty"`
	Method      string `json:"method,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
	TestVMUUID  string `json:"test_vm_uuid,omitempty"`
	BootMS      int64  `json:"boot_ms,omitempty"`
	DurationMS  int64  `json:"duration_ms,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Error       string `json:"error,omitempty"`

	RequestedAt time.Time `json:"requested_at,omitzero"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
}

// Done reports whether the check ended (completed or failed).
func (h HealthStatus) Done() bool { return h.State == HealthCompleted || h.State == HealthFailed }

// LookupHealth reads health check id from the last event of each of its
// subjects (requested, started, completed, failed) in the events stream.
// ErrNotFound: no event of that id.
func LookupHealth(ctx context.Context, js jetstream.JetStream, s events.Subjects, names events.StreamNames, id string) (HealthStatus, error) {
	if err := events.ValidToken(id); err != nil {
		return HealthStatus{}, fmt.Errorf("health check id: %w", err)
	}
	h := HealthStatus{RequestID: id}
	found := false
	for _, t := range []events.Type{events.TypeHealthCheckRequested, events.TypeHealthCheckStarted,
		events.TypeHealthCheckCompleted, events.TypeHealthCheckFailed} {
		r, ok, err := lastEvent(ctx, js, s, names.WithDefaults().Events, s.For(t, id))
		if err != nil {
			return HealthStatus{}, err
		}
		if ok && h.apply(r) {
			found = true
		}
	}
	if !found {
		return HealthStatus{}, fmt.Errorf("health check %s: %w", id, ErrNotFound)
	}
	return h, nil
}

// apply folds one event of the check into h; the events come in their
// order (requested, started, then the outcome).
func (h *HealthStatus) apply(r events.Received) bool {
	at := r.Event.Time().UTC()
	switch p := r.Payload.(type) {
	case events.HealthCheckRequested:
		h.State, h.RequestedAt = HealthRequested, at
		h.BackupID, h.VMUUID, h.VMName, h.Pool, h.SR = p.BackupID, p.VMUUID, p.VMName, p.Pool, p.SR
		h.Method, h.RequestedBy = p.Method, p.RequestedBy
	case events.HealthCheckStarted:
		h.State, h.StartedAt, h.TestVMUUID = HealthStarted, at, p.TestVMUUID
		h.BackupID, h.Pool, h.SR = p.BackupID, p.Pool, p.SR
	case events.HealthCheckCompleted:
		h.State, h.FinishedAt = HealthCompleted, at
		h.BackupID, h.Method, h.BootMS, h.DurationMS = p.BackupID, p.Method, p.BootMS, p.DurationMS
	case events.HealthCheckFailed:
		h.State, h.FinishedAt = HealthFailed, at
		h.BackupID, h.Reason, h.Error, h.DurationMS = p.BackupID, p.Reason, p.Error, p.DurationMS
	default:
		return false
	}
	return true
}
