package events

import (
	"fmt"
	"time"
)

// Incremental paths: how a restore point's disks were read.
const (
	// PathCBT: only the chunks holding blocks that changed since the
	// previous point's snapshot were read, over NBD.
	PathCBT = "cbt"
	// PathFullScan: the whole disk was read (/export_raw_vdi); PathReason
	// says why.
	PathFullScan = "full-scan"
)

// Why an incremental run read a whole disk (IncrementalCompleted.PathReason).
const (
	PathReasonFirstRun    = "first-run"    // no previous point of this VM in the repository
	PathReasonCBTDisabled = "cbt-disabled" // changed-block tracking is off on the disk
	PathReasonCBTReset    = "cbt-reset"    // list_changed_blocks refused: the tracking chain broke
	PathReasonBaseGone    = "base-gone"    // the previous point's snapshot VDI no longer exists
	PathReasonNoNBD       = "no-nbd"       // no NBD endpoint for the disk (no NBD network)
	PathReasonDiskResized = "disk-resized" // the disk's size changed since the previous point
	PathReasonCBTError    = "cbt-error"    // another error of the changed-block path
)

// PathReasons lists every PathReason.
func PathReasons() []string {
	return []string{PathReasonFirstRun, PathReasonCBTDisabled, PathReasonCBTReset, PathReasonBaseGone,
		PathReasonNoNBD, PathReasonDiskResized, PathReasonCBTError}
}

// IncrementalRequested: store one restore point of one VM of a run in the
// job's remote's repository.
type IncrementalRequested struct {
	RunID    string    `json:"run_id"`
	Job      string    `json:"job"`
	Schedule string    `json:"schedule"`
	FireTime time.Time `json:"fire_time"`
	VMUUID   string    `json:"vm_uuid"`
	VMName   string    `json:"vm_name,omitempty"`
	Pool     string    `json:"pool"`
	Remote   string    `json:"remote"`
	CBT      string    `json:"cbt"`
}

func (p IncrementalRequested) EventType() Type         { return TypeIncrementalRequested }
func (p IncrementalRequested) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p IncrementalRequested) scope() (string, string) { return p.RunID, p.Job }

func (p IncrementalRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.time("fire_time", p.FireTime)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.name("remote", p.Remote)
	c.oneOf("cbt", p.CBT, CBTEnable, CBTUseIfEnabled)
	return c.err()
}

// CBT options of an incremental job.
const (
	CBTEnable       = "enable"
	CBTUseIfEnabled = "use-if-enabled"
)

// IncrementalStarted: the worker began an attempt at the VM (one per attempt).
type IncrementalStarted struct {
	RunID        string `json:"run_id"`
	Job          string `json:"job"`
	Schedule     string `json:"schedule"`
	VMUUID       string `json:"vm_uuid"`
	VMName       string `json:"vm_name,omitempty"`
	Pool         string `json:"pool"`
	Remote       string `json:"remote"`
	SnapshotUUID string `json:"snapshot_uuid,omitempty"`
	Attempt      int64  `json:"attempt,omitempty"`
}

func (p IncrementalStarted) EventType() Type         { return TypeIncrementalStarted }
func (p IncrementalStarted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p IncrementalStarted) scope() (string, string) { return p.RunID, p.Job }

func (p IncrementalStarted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.name("remote", p.Remote)
	c.optUUID("snapshot_uuid", p.SnapshotUUID)
	c.nonNegative("attempt", p.Attempt)
	return c.err()
}

// IncrementalProgress: bytes read from the host so far; TotalBytes is what
// the chosen paths will read, 0 when unknown.
type IncrementalProgress struct {
	RunID  string `json:"run_id"`
	Job    string `json:"job"`
	VMUUID string `json:"vm_uuid"`
	Transfer
}

func (p IncrementalProgress) EventType() Type         { return TypeIncrementalProgress }
func (p IncrementalProgress) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p IncrementalProgress) scope() (string, string) { return p.RunID, p.Job }

func (p IncrementalProgress) Validate() error {
	c := checker{t: p.EventType()}
	c.id("run_id", p.RunID)
	c.name("job", p.Job)
	c.uuid("vm_uuid", p.VMUUID)
	c.transfer(p.Transfer)
	return c.err()
}

// IncrementalCompleted: the restore point is committed. Path is cbt when
// every disk was read by changed blocks, else full-scan with PathReason the
// reason of the first disk read whole. BytesRead is what was read from the
// host (on the cbt path the changed blocks, or whole chunks more than half
// changed), BytesStored the new (compressed) bytes written to the
// repository, DedupRatio the bytes of the chunks the run wrote (the changed
// chunks; every chunk on a full scan) per BytesStored (0 when nothing new
// was stored). ChunksPatched counts the changed chunks built from their
// base chunk and the changed blocks alone; BaseChunksUnreadable the base
// chunks that could not be read back (missing or damaged: the chunk was
// read whole from the host instead, and the points that use the base chunk
// need `xbr verify --deep`).
type IncrementalCompleted struct {
	RunID                string         `json:"run_id"`
	Job                  string         `json:"job"`
	Schedule             string         `json:"schedule"`
	VMUUID               string         `json:"vm_uuid"`
	VMName               string         `json:"vm_name,omitempty"`
	Pool                 string         `json:"pool"`
	Timestamp            string         `json:"timestamp"`
	Path                 string         `json:"path"`
	PathReason           string         `json:"path_reason,omitempty"`
	BytesRead            int64          `json:"bytes_read"`
	BytesStored          int64          `json:"bytes_stored"`
	ChunksNew            int64          `json:"chunks_new"`
	ChunksReused         int64          `json:"chunks_reused"`
	ChunksPatched        int64          `json:"chunks_patched,omitempty"`
	BaseChunksUnreadable int64          `json:"base_chunks_unreadable,omitempty"`
	DedupRatio           float64        `json:"dedup_ratio"`
	DurationMS           int64          `json:"duration_ms"`
	BytesPerSecond       int64          `json:"bytes_per_second"`
	Backups              []RemoteBackup `json:"backups"`
}

func (p IncrementalCompleted) EventType() Type         { return TypeIncrementalCompleted }
func (p IncrementalCompleted) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p IncrementalCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p IncrementalCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.xoTime("timestamp", p.Timestamp)
	c.oneOf("path", p.Path, PathCBT, PathFullScan)
	switch {
	case p.Path == PathCBT && p.PathReason != "":
		c.fail("path_reason", fmt.Sprintf("%q", p.PathReason), "must be empty on the cbt path")
	case p.Path == PathFullScan:
		c.oneOf("path_reason", p.PathReason, PathReasons()...)
	}
	c.nonNegative("bytes_read", p.BytesRead)
	c.nonNegative("bytes_stored", p.BytesStored)
	c.nonNegative("chunks_new", p.ChunksNew)
	c.nonNegative("chunks_reused", p.ChunksReused)
	c.nonNegative("chunks_patched", p.ChunksPatched)
	c.nonNegative("base_chunks_unreadable", p.BaseChunksUnreadable)
	c.nonNegative("duration_ms", p.DurationMS)
	c.nonNegative("bytes_per_second", p.BytesPerSecond)
	c.nonNegativeF("dedup_ratio", p.DedupRatio)
	if len(p.Backups) == 0 {
		c.fail("backups", "", "needs at least one entry")
	}
	for i, b := range p.Backups {
		c.name(field("backups", i, "remote"), b.Remote)
		c.backupID(field("backups", i, "backup_id"), b.BackupID)
	}
	return c.err()
}

// IncrementalFailed: the VM's restore point failed for good (retries
// exhausted or a permanent error); nothing was committed, the new snapshot
// was removed and the previous changed-block base kept.
type IncrementalFailed struct {
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

func (p IncrementalFailed) EventType() Type         { return TypeIncrementalFailed }
func (p IncrementalFailed) SubjectKeys() []string   { return []string{p.Job, p.VMUUID} }
func (p IncrementalFailed) scope() (string, string) { return p.RunID, p.Job }

func (p IncrementalFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.vm(p.VMUUID, p.VMName, p.Pool)
	c.errorText("error", p.Error)
	c.nonNegative("attempts", p.Attempts)
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}
