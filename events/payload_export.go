package events

import "time"

// ExportRequested: back up one VM of a run to every remote of the job.
type ExportRequested struct {
	RunID           string    `json:"run_id"`
	Job             string    `json:"job"`
	Schedule        string    `json:"schedule"`
	FireTime        time.Time `json:"fire_time"`
	VMUUID          string    `json:"vm_uuid"`
	VMName          string    `json:"vm_name,omitempty"`
	Pool            string    `json:"pool"`
	Remotes         []string  `json:"remotes"`
	Codec           string    `json:"codec"`
	XAPICompression bool      `json:"xapi_compression,omitempty"`
}

func (p ExportRequested) EventType() Type         { return TypeExportRequested }
func (p ExportRequested) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ExportRequested) scope() (string, string) { return p.RunID, p.Job }

func (p ExportRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.time("fire_time", p.FireTime)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.names("remotes", p.Remotes, true)
	c.oneOf("codec", p.Codec, CodecGzip, CodecZstd, CodecNone)
	return c.err()
}

// ExportStarted: the export worker took the VM.
type ExportStarted struct {
	RunID        string   `json:"run_id"`
	Job          string   `json:"job"`
	Schedule     string   `json:"schedule"`
	VMUUID       string   `json:"vm_uuid"`
	VMName       string   `json:"vm_name,omitempty"`
	Pool         string   `json:"pool"`
	Remotes      []string `json:"remotes"`
	Codec        string   `json:"codec"`
	SnapshotUUID string   `json:"snapshot_uuid,omitempty"`
	Attempt      int64    `json:"attempt,omitempty"`
}

func (p ExportStarted) EventType() Type         { return TypeExportStarted }
func (p ExportStarted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ExportStarted) scope() (string, string) { return p.RunID, p.Job }

func (p ExportStarted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.names("remotes", p.Remotes, true)
	c.oneOf("codec", p.Codec, CodecGzip, CodecZstd, CodecNone)
	c.optUUID("snapshot_uuid", p.SnapshotUUID)
	c.nonNegative("attempt", p.Attempt)
	return c.err()
}

// ExportProgress: bytes read from XAPI so far; TotalBytes is 0 when unknown.
type ExportProgress struct {
	RunID  string `json:"run_id"`
	Job    string `json:"job"`
	VMUUID string `json:"vm_uuid"`
	Transfer
}

func (p ExportProgress) EventType() Type         { return TypeExportProgress }
func (p ExportProgress) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ExportProgress) scope() (string, string) { return p.RunID, p.Job }

func (p ExportProgress) Validate() error {
	c := checker{t: p.EventType()}
	c.id("run_id", p.RunID)
	c.name("job", p.Job)
	c.uuid("vm_uuid", p.VMUUID)
	c.transfer(p.Transfer)
	return c.err()
}

// RemoteBackup is a backup committed on one remote.
type RemoteBackup struct {
	Remote   string `json:"remote"`
	BackupID string `json:"backup_id"`
}

// ExportCompleted: the backup is committed on every remote. Size is the
// stored (compressed) size, SHA256 its digest, BytesRead the XVA size read.
type ExportCompleted struct {
	RunID          string         `json:"run_id"`
	Job            string         `json:"job"`
	Schedule       string         `json:"schedule"`
	VMUUID         string         `json:"vm_uuid"`
	VMName         string         `json:"vm_name,omitempty"`
	Pool           string         `json:"pool"`
	Timestamp      string         `json:"timestamp"`
	Codec          string         `json:"codec"`
	Size           int64          `json:"size"`
	BytesRead      int64          `json:"bytes_read"`
	SHA256         string         `json:"sha256"`
	DurationMS     int64          `json:"duration_ms"`
	BytesPerSecond int64          `json:"bytes_per_second"`
	Backups        []RemoteBackup `json:"backups"`
}

func (p ExportCompleted) EventType() Type         { return TypeExportCompleted }
func (p ExportCompleted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ExportCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p ExportCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.xoTime("timestamp", p.Timestamp)
	c.oneOf("codec", p.Codec, CodecGzip, CodecZstd, CodecNone)
	c.nonNegative("size", p.Size)
	c.nonNegative("bytes_read", p.BytesRead)
	c.sha256("sha256", p.SHA256)
	c.nonNegative("duration_ms", p.DurationMS)
	c.nonNegative("bytes_per_second", p.BytesPerSecond)
	if len(p.Backups) == 0 {
		c.fail("backups", "", "needs at least one entry")
	}
	for i, b := range p.Backups {
		c.name(field("backups", i, "remote"), b.Remote)
		c.backupID(field("backups", i, "backup_id"), b.BackupID)
	}
	return c.err()
}

// ExportFailed: the VM's export failed for good (retries exhausted or a
// permanent error); nothing was committed and the snapshot was removed.
type ExportFailed struct {
	RunID      string `json:"run_id"`
	Job        string `json:"job"`
	Schedule   string `json:"schedule"`
	VMUUID     string `json:"vm_uuid"`
	VMName     string `json:"vm_name,omitempty"`
	Pool       string `json:"pool"`
	Error      string `json:"error"`
	Attempts   int64  `json:"attempts,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
}

func (p ExportFailed) EventType() Type         { return TypeExportFailed }
func (p ExportFailed) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p ExportFailed) scope() (string, string) { return p.RunID, p.Job }

func (p ExportFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.errorText("error", p.Error)
	c.nonNegative("attempts", p.Attempts)
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}
