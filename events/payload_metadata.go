package events

import "fmt"

// MetadataCompleted: one pool's database dump (GET /pool/xmldbdump) is
// committed on one remote of a metadata job, in Xen Orchestra's layout
// (BackupID is <remote>:xo-pool-metadata-backups/<schedule id>/<pool
// uuid>/<ts>), with xbr's own state beside it; Deleted are the backups of
// that pool and schedule the retention removed from that remote afterwards.
type MetadataCompleted struct {
	RunID      string   `json:"run_id"`
	Job        string   `json:"job"`
	Schedule   string   `json:"schedule"`
	Pool       string   `json:"pool"`
	PoolUUID   string   `json:"pool_uuid"`
	Remote     string   `json:"remote"`
	BackupID   string   `json:"backup_id"`
	Bytes      int64    `json:"bytes"`
	SHA256     string   `json:"sha256"`
	Deleted    []string `json:"deleted,omitempty"`
	DurationMS int64    `json:"duration_ms"`
}

func (p MetadataCompleted) EventType() Type         { return TypeMetadataCompleted }
func (p MetadataCompleted) SubjectKeys() []string   { return []string{p.Job, p.Pool, p.Remote} }
func (p MetadataCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p MetadataCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.name("pool", p.Pool)
	c.uuid("pool_uuid", p.PoolUUID)
	c.name("remote", p.Remote)
	c.backupID("backup_id", p.BackupID)
	c.nonNegative("bytes", p.Bytes)
	c.sha256("sha256", p.SHA256)
	for i, d := range p.Deleted {
		c.backupID(fmt.Sprintf("deleted[%d]", i), d)
	}
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}

// MetadataFailed: one pool's database was not backed up to one remote;
// nothing was committed there (no metadata.json) and its retention
// deleted nothing. PoolUUID is empty when the pool could not be reached.
type MetadataFailed struct {
	RunID    string `json:"run_id"`
	Job      string `json:"job"`
	Schedule string `json:"schedule"`
	Pool     string `json:"pool"`
	PoolUUID string `json:"pool_uuid,omitempty"`
	Remote   string `json:"remote"`
	Error    string `json:"error"`
}

func (p MetadataFailed) EventType() Type         { return TypeMetadataFailed }
func (p MetadataFailed) SubjectKeys() []string   { return []string{p.Job, p.Pool, p.Remote} }
func (p MetadataFailed) scope() (string, string) { return p.RunID, p.Job }

func (p MetadataFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.name("pool", p.Pool)
	c.optUUID("pool_uuid", p.PoolUUID)
	c.name("remote", p.Remote)
	c.errorText("error", p.Error)
	return c.err()
}
