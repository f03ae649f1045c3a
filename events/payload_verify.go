package events

// VerifyCompleted: the backup was re-read and matches its SHA-256; with
// Deep, every XVA chunk hash was checked and every disk is complete. RunID
// and Job are set when the verification was scheduled.
type VerifyCompleted struct {
	BackupID   string `json:"backup_id"`
	Remote     string `json:"remote"`
	VMUUID     string `json:"vm_uuid"`
	Deep       bool   `json:"deep,omitempty"`
	SHA256     string `json:"sha256"`
	Bytes      int64  `json:"bytes"`
	DurationMS int64  `json:"duration_ms"`
	RunID      string `json:"run_id,omitempty"`
	Job        string `json:"job,omitempty"`
}

func (p VerifyCompleted) EventType() Type         { return TypeVerifyCompleted }
func (p VerifyCompleted) SubjectKeys() []string   { return []string{p.Remote, p.VMUUID} }
func (p VerifyCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p VerifyCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.backupID("backup_id", p.BackupID)
	c.name("remote", p.Remote)
	c.uuid("vm_uuid", p.VMUUID)
	c.sha256("sha256", p.SHA256)
	c.nonNegative("bytes", p.Bytes)
	c.nonNegative("duration_ms", p.DurationMS)
	c.optRunJob(p.RunID, p.Job)
	return c.err()
}

// VerifyFailed: the backup is unreadable, truncated or corrupt.
type VerifyFailed struct {
	BackupID string `json:"backup_id"`
	Remote   string `json:"remote"`
	VMUUID   string `json:"vm_uuid"`
	Deep     bool   `json:"deep,omitempty"`
	Error    string `json:"error"`
	RunID    string `json:"run_id,omitempty"`
	Job      string `json:"job,omitempty"`
}

func (p VerifyFailed) EventType() Type         { return TypeVerifyFailed }
func (p VerifyFailed) SubjectKeys() []string   { return []string{p.Remote, p.VMUUID} }
func (p VerifyFailed) scope() (string, string) { return p.RunID, p.Job }

func (p VerifyFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.backupID("backup_id", p.BackupID)
	c.name("remote", p.Remote)
	c.uuid("vm_uuid", p.VMUUID)
	c.errorText("error", p.Error)
	c.optRunJob(p.RunID, p.Job)
	return c.err()
}

func (c *checker) optRunJob(run, job string) {
	if run != "" {
		c.id("run_id", run)
	}
	c.text("job", job)
}
