package events

// RemoteUsage: how much of a remote xbr's files take, measured after a run
// that wrote to or pruned it (one per remote of the job). UsedBytes is the
// sum of the sizes of every committed object xbr lists on the remote
// (backups, restore points and their chunks, metadata backups); FreeBytes
// is the space left to a writer on the filesystem holding a directory
// remote, absent where unknown (S3 has no free figure). The Protection
// page's chart of used space over 30 days reads these (events contract
// 2.5.0).
type RemoteUsage struct {
	RunID     string `json:"run_id"`
	Job       string `json:"job"`
	Remote    string `json:"remote"`
	UsedBytes int64  `json:"used_bytes"`
	Objects   int64  `json:"objects"`
	FreeBytes *int64 `json:"free_bytes,omitempty"`
}

func (p RemoteUsage) EventType() Type         { return TypeRemoteUsage }
func (p RemoteUsage) SubjectKeys() []string   { return []string{p.Remote} }
func (p RemoteUsage) scope() (string, string) { return p.RunID, p.Job }

func (p RemoteUsage) Validate() error {
	c := checker{t: p.EventType()}
	c.id("run_id", p.RunID)
	c.name("job", p.Job)
	c.name("remote", p.Remote)
	c.nonNegative("used_bytes", p.UsedBytes)
	c.nonNegative("objects", p.Objects)
	if p.FreeBytes != nil {
		c.nonNegative("free_bytes", *p.FreeBytes)
	}
	return c.err()
}
