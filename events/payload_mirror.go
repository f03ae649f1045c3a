package events

import (
	"fmt"
	"time"
)

// MirrorRequested: copy one VM's restore points from a mirror job's source
// repository to each of its target repositories (the restore points a
// target lacks that its retention keeps), then apply the retention on each
// target. One per VM of a run.
type MirrorRequested struct {
	RunID     string    `json:"run_id"`
	Job       string    `json:"job"`
	Schedule  string    `json:"schedule"`
	FireTime  time.Time `json:"fire_time"`
	VMUUID    string    `json:"vm_uuid"`
	Source    string    `json:"source"`
	Targets   []string  `json:"targets"`
	Retention int64     `json:"retention"`
}

func (p MirrorRequested) EventType() Type         { return TypeMirrorRequested }
func (p MirrorRequested) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p MirrorRequested) scope() (string, string) { return p.RunID, p.Job }

func (p MirrorRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.time("fire_time", p.FireTime)
	c.uuid("vm_uuid", p.VMUUID)
	c.name("source", p.Source)
	c.names("targets", p.Targets, true)
	c.nonNegative("retention", p.Retention)
	return c.err()
}

// MirrorTarget is what a mirror did on one target repository: the restore
// points it copied (ids <remote>:xbr-repo/<vm-uuid>/<ts> on the target), the
// chunks and stored bytes it wrote, and the points the target's retention
// deleted. GC is no longer set (earlier versions collected the target after
// each VM): the target is collected once, when the mirror run has ended, and
// reported by xbr.gc.completed with the run's ids; kept so that events
// already in the stream still decode.
type MirrorTarget struct {
	Remote       string       `json:"remote"`
	Copied       []string     `json:"copied,omitempty"`
	ChunksCopied int64        `json:"chunks_copied"`
	BytesCopied  int64        `json:"bytes_copied"`
	Deleted      []PrunedItem `json:"deleted,omitempty"`
	GC           *GCStats     `json:"gc,omitempty"`
}

// MirrorCompleted: the VM's restore points are on every target.
type MirrorCompleted struct {
	RunID      string         `json:"run_id"`
	Job        string         `json:"job"`
	Schedule   string         `json:"schedule"`
	VMUUID     string         `json:"vm_uuid"`
	Source     string         `json:"source"`
	Targets    []MirrorTarget `json:"targets"`
	DurationMS int64          `json:"duration_ms"`
}

func (p MirrorCompleted) EventType() Type         { return TypeMirrorCompleted }
func (p MirrorCompleted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p MirrorCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p MirrorCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.uuid("vm_uuid", p.VMUUID)
	c.name("source", p.Source)
	if len(p.Targets) == 0 {
		c.fail("targets", "", "needs at least one entry")
	}
	c.mirrorTargets(p.Targets)
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}

// MirrorFailed: the mirror of the VM stopped. Targets says what was done
// before; nothing half-copied is a restore point on a target (a manifest
// is written last), and the next run completes the copy.
type MirrorFailed struct {
	RunID    string         `json:"run_id"`
	Job      string         `json:"job"`
	Schedule string         `json:"schedule"`
	VMUUID   string         `json:"vm_uuid"`
	Source   string         `json:"source"`
	Error    string         `json:"error"`
	Targets  []MirrorTarget `json:"targets,omitempty"`
}

func (p MirrorFailed) EventType() Type         { return TypeMirrorFailed }
func (p MirrorFailed) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p MirrorFailed) scope() (string, string) { return p.RunID, p.Job }

func (p MirrorFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.uuid("vm_uuid", p.VMUUID)
	c.name("source", p.Source)
	c.errorText("error", p.Error)
	c.mirrorTargets(p.Targets)
	return c.err()
}

func (c *checker) mirrorTargets(ts []MirrorTarget) {
	for i, t := range ts {
		c.name(field("targets", i, "remote"), t.Remote)
		for j, id := range t.Copied {
			c.name(fmt.Sprintf("targets[%d].copied[%d]", i, j), id)
		}
		c.nonNegative(field("targets", i, "chunks_copied"), t.ChunksCopied)
		c.nonNegative(field("targets", i, "bytes_copied"), t.BytesCopied)
		for j, d := range t.Deleted {
			c.name(fmt.Sprintf("targets[%d].deleted[%d].id", i, j), d.ID)
			c.xoTime(fmt.Sprintf("targets[%d].deleted[%d].timestamp", i, j), d.Timestamp)
			c.name(fmt.Sprintf("targets[%d].deleted[%d].reason", i, j), d.Reason)
		}
		if t.GC != nil {
			c.gcStats(field("targets", i, "gc"), *t.GC)
		}
	}
}
