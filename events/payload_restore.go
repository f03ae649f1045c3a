package events

// RestoreRequested: restore a backup. SR empty means the pool's default SR;
// Name empty means "<vm name> (<backup time>)".
type RestoreRequested struct {
	RequestID   string `json:"request_id"`
	BackupID    string `json:"backup_id"`
	Pool        string `json:"pool"`
	SR          string `json:"sr,omitempty"`
	Name        string `json:"name,omitempty"`
	Start       bool   `json:"start,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
}

func (p RestoreRequested) EventType() Type         { return TypeRestoreRequested }
func (p RestoreRequested) SubjectKeys() []string   { return []string{p.RequestID} }
func (p RestoreRequested) scope() (string, string) { return p.RequestID, "" }

func (p RestoreRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.backupID("backup_id", p.BackupID)
	c.name("pool", p.Pool)
	c.text("sr", p.SR)
	c.text("name", p.Name)
	c.text("requested_by", p.RequestedBy)
	return c.err()
}

// RestoreStarted: the restore worker began; TotalBytes is 0 when unknown.
type RestoreStarted struct {
	RequestID  string `json:"request_id"`
	BackupID   string `json:"backup_id"`
	Pool       string `json:"pool"`
	SR         string `json:"sr,omitempty"`
	VMUUID     string `json:"vm_uuid,omitempty"`
	TotalBytes int64  `json:"total_bytes,omitempty"`
}

func (p RestoreStarted) EventType() Type         { return TypeRestoreStarted }
func (p RestoreStarted) SubjectKeys() []string   { return []string{p.RequestID} }
func (p RestoreStarted) scope() (string, string) { return p.RequestID, "" }

func (p RestoreStarted) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.backupID("backup_id", p.BackupID)
	c.name("pool", p.Pool)
	c.text("sr", p.SR)
	c.optUUID("vm_uuid", p.VMUUID)
	c.nonNegative("total_bytes", p.TotalBytes)
	return c.err()
}

// RestoreProgress: bytes of the backup read so far.
type RestoreProgress struct {
	RequestID string `json:"request_id"`
	Transfer
}

func (p RestoreProgress) EventType() Type         { return TypeRestoreProgress }
func (p RestoreProgress) SubjectKeys() []string   { return []string{p.RequestID} }
func (p RestoreProgress) scope() (string, string) { return p.RequestID, "" }

func (p RestoreProgress) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.transfer(p.Transfer)
	return c.err()
}

// RestoreCompleted: the backup is a new VM on the target pool.
type RestoreCompleted struct {
	RequestID      string `json:"request_id"`
	BackupID       string `json:"backup_id"`
	Pool           string `json:"pool"`
	SR             string `json:"sr,omitempty"`
	NewVMUUID      string `json:"new_vm_uuid"`
	NewVMName      string `json:"new_vm_name"`
	Bytes          int64  `json:"bytes"`
	DurationMS     int64  `json:"duration_ms"`
	BytesPerSecond int64  `json:"bytes_per_second"`
	Started        bool   `json:"started,omitempty"`
}

func (p RestoreCompleted) EventType() Type         { return TypeRestoreCompleted }
func (p RestoreCompleted) SubjectKeys() []string   { return []string{p.RequestID} }
func (p RestoreCompleted) scope() (string, string) { return p.RequestID, "" }

func (p RestoreCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.backupID("backup_id", p.BackupID)
	c.name("pool", p.Pool)
	c.text("sr", p.SR)
	c.uuid("new_vm_uuid", p.NewVMUUID)
	c.name("new_vm_name", p.NewVMName)
	c.nonNegative("bytes", p.Bytes)
	c.nonNegative("duration_ms", p.DurationMS)
	c.nonNegative("bytes_per_second", p.BytesPerSecond)
	return c.err()
}

// RestoreFailed: the restore failed and left no imported VM behind.
type RestoreFailed struct {
	RequestID string `json:"request_id"`
	BackupID  string `json:"backup_id"`
	Pool      string `json:"pool,omitempty"`
	Error     string `json:"error"`
}

func (p RestoreFailed) EventType() Type         { return TypeRestoreFailed }
func (p RestoreFailed) SubjectKeys() []string   { return []string{p.RequestID} }
func (p RestoreFailed) scope() (string, string) { return p.RequestID, "" }

func (p RestoreFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.backupID("backup_id", p.BackupID)
	c.text("pool", p.Pool)
	c.errorText("error", p.Error)
	return c.err()
}
