package integrity

import (
	"time"

	"xbr/events"
)

// QueryVerify is the verify query, for clients without the configuration
// file: the server, which has the remotes, verifies and publishes the
// results (it writes: the auditor may not call it).
var QueryVerify = events.NewQuery[Request, []Report](events.QueryNameVerify)

// Request asks a server to verify one backup (BackupID) or every backup of
// a remote (Remote): the request of the verify query.
type Request struct {
	BackupID string `json:"backup_id,omitempty"`
	Remote   string `json:"remote,omitempty"`
	Deep     bool   `json:"deep,omitempty"`
}

// Report is a Result as it travels to a client.
type Report struct {
	ID         string `json:"id"`
	OK         bool   `json:"ok"`
	Deep       bool   `json:"deep,omitempty"`
	Bytes      int64  `json:"bytes"`
	SHA256     string `json:"sha256,omitempty"`
	Disks      int    `json:"disks,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
	Skipped    string `json:"skipped,omitempty"` // why it was not verified; not a failure
}

// Report renders r for a client.
func (r Result) Report() Report {
	return Report{ID: r.ID.String(), OK: r.OK(), Deep: r.Deep, Bytes: r.Bytes, SHA256: r.SHA256,
		Disks: r.Disks, DurationMS: r.Duration.Milliseconds(), Error: r.ErrorText(), Skipped: r.Skipped}
}

// Duration is the report's duration.
func (r Report) Duration() time.Duration { return time.Duration(r.DurationMS) * time.Millisecond }
