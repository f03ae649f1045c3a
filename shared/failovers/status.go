package failovers

import (
	"time"

	"xbr/events"
)

// State is where a failover is.
type State string

// The states of a failover.
const (
	StatePending   State = "pending"   // requested; the replicate function did not answer yet
	StateCompleted State = "completed" // start is unblocked on the copy (booted if asked)
	StateFailed    State = "failed"    // refused or failed: nothing was failed over
)

// Status is a failover as its events tell it. Its JSON is what
// GET /v1/failovers/<id> answers; Request, Completed and Failed are the
// contract's payloads as they were published.
type Status struct {
	RequestID   string                    `json:"id"`
	State       State                     `json:"status"`
	Request     *events.FailoverRequested `json:"request,omitempty"`
	Completed   *events.FailoverCompleted `json:"completed,omitempty"`
	Failed      *events.FailoverFailed    `json:"failed,omitempty"`
	RequestedAt time.Time                 `json:"requested_at,omitzero"`
	FinishedAt  time.Time                 `json:"finished_at,omitzero"`
}

// Done reports whether the failover ended (completed or failed).
func (s Status) Done() bool { return s.State == StateCompleted || s.State == StateFailed }

// Refused reports whether the failover was refused because the source VM,
// or another copy of it, is running.
func (s Status) Refused() bool { return s.Failed != nil && s.Failed.Refused }

// Error is the reason of a failed failover ("" otherwise).
func (s Status) Error() string {
	if s.Failed == nil {
		return ""
	}
	return s.Failed.Error
}

// Apply folds one event into s and reports whether it changed s. Events of
// other requests (when s.RequestID is set) or other types are ignored; the
// first outcome wins.
func (s *Status) Apply(r events.Received) bool {
	at := r.Event.Time()
	switch p := r.Payload.(type) {
	case events.FailoverRequested:
		if !s.mine(p.RequestID) || s.Request != nil {
			return false
		}
		s.Request, s.RequestedAt = &p, at
		if s.State == "" {
			s.State = StatePending
		}
	case events.FailoverCompleted:
		if !s.mine(p.RequestID) || s.Done() {
			return false
		}
		s.State, s.Completed, s.FinishedAt = StateCompleted, &p, at
	case events.FailoverFailed:
		if !s.mine(p.RequestID) || s.Done() {
			return false
		}
		s.State, s.Failed, s.FinishedAt = StateFailed, &p, at
	default:
		return false
	}
	return true
}

// mine adopts id when s has none yet, else checks it.
func (s *Status) mine(id string) bool {
	if s.RequestID == "" {
		s.RequestID = id
	}
	return s.RequestID == id
}
