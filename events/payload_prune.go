package events

import "fmt"

// What a prune removes.
const (
	PruneBackups   = "backups"   // backups on a remote (depth)
	PruneSnapshots = "snapshots" // rolling snapshots (snapshot_retention)
	PruneCopies    = "copies"    // standby copies of replication (copy_retention)
)

// PrunedItem is one deleted backup, snapshot or copy and why it was chosen.
type PrunedItem struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Reason    string `json:"reason"`
}

// PruneCompleted: what was kept and deleted for one VM, job, schedule and
// (for backups) remote. ID is a backup id, or a snapshot/copy VM uuid.
type PruneCompleted struct {
	RunID     string       `json:"run_id"`
	Job       string       `json:"job"`
	Schedule  string       `json:"schedule"`
	VMUUID    string       `json:"vm_uuid"`
	Kind      string       `json:"kind"`
	Remote    string       `json:"remote,omitempty"`
	Retention int64        `json:"retention"`
	Kept      []string     `json:"kept,omitempty"`
	Deleted   []PrunedItem `json:"deleted,omitempty"`
	// GC is the garbage collection of an incremental repository that earlier
	// versions ran after each VM's deletions. It is no longer set: the
	// repository is collected once, at the end of the run that deleted
	// points, and reported by xbr.gc.completed (or xbr.gc.failed) with the
	// run's ids. Kept so that events already in the stream still decode.
	GC *GCStats `json:"gc,omitempty"`
}

// GCStats is what one garbage collection of an incremental repository
// (xbr-repo/) did.
type GCStats struct {
	ChunksSwept int64 `json:"chunks_swept"`
	BytesSwept  int64 `json:"bytes_swept"`
	// Deferred is true when backups were writing to the repository: nothing
	// was swept, the next GC sweeps.
	Deferred bool `json:"deferred"`
	// Error says why the GC stopped; what it swept before is counted.
	Error string `json:"error,omitempty"`
}

func (p PruneCompleted) EventType() Type         { return TypePruneCompleted }
func (p PruneCompleted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p PruneCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p PruneCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.uuid("vm_uuid", p.VMUUID)
	c.pruneTarget(p.Kind, p.Remote)
	c.nonNegative("retention", p.Retention)
	for i, k := range p.Kept {
		c.name(fmt.Sprintf("kept[%d]", i), k)
	}
	c.prunedItems(p.Deleted)
	if p.GC != nil {
		c.gcStats("gc", *p.GC)
	}
	return c.err()
}

func (c *checker) gcStats(path string, g GCStats) {
	c.nonNegative(path+".chunks_swept", g.ChunksSwept)
	c.nonNegative(path+".bytes_swept", g.BytesSwept)
	if g.Error != "" {
		c.errorText(path+".error", g.Error)
	}
}

// PruneFailed: pruning stopped; Deleted lists what was removed before.
type PruneFailed struct {
	RunID    string       `json:"run_id"`
	Job      string       `json:"job"`
	Schedule string       `json:"schedule"`
	VMUUID   string       `json:"vm_uuid"`
	Kind     string       `json:"kind"`
	Remote   string       `json:"remote,omitempty"`
	Error    string       `json:"error"`
	Deleted  []PrunedItem `json:"deleted,omitempty"`
}

func (p PruneFailed) EventType() Type         { return TypePruneFailed }
func (p PruneFailed) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p PruneFailed) scope() (string, string) { return p.RunID, p.Job }

func (p PruneFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.uuid("vm_uuid", p.VMUUID)
	c.pruneTarget(p.Kind, p.Remote)
	c.errorText("error", p.Error)
	c.prunedItems(p.Deleted)
	return c.err()
}

func (c *checker) pruneTarget(kind, remote string) {
	c.oneOf("kind", kind, PruneBackups, PruneSnapshots, PruneCopies)
	if kind == PruneBackups {
		c.name("remote", remote)
	} else {
		c.text("remote", remote)
	}
}

func (c *checker) prunedItems(items []PrunedItem) {
	for i, d := range items {
		c.name(field("deleted", i, "id"), d.ID)
		c.xoTime(field("deleted", i, "timestamp"), d.Timestamp)
		c.name(field("deleted", i, "reason"), d.Reason)
	}
}
