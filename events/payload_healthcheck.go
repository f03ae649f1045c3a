package events

import (
	"fmt"
	"strings"
)

// Reasons a health check failed (HealthCheckFailed.Reason).
const (
	// HealthReasonTimeout: the guest did not report within the timeout.
	HealthReasonTimeout = "timeout"
	// HealthReasonGuestFailure: the guest wrote "failure" to
	// vm-data/xo-backup-health-check.
	HealthReasonGuestFailure = "guest-failure"
	// HealthReasonBootFailed: the test VM could not be started, or halted
	// before its guest reported.
	HealthReasonBootFailed = "boot-failed"
	// HealthReasonRestoreFailed: the backup could not be imported (or the
	// replica cloned) as a test VM.
	HealthReasonRestoreFailed = "restore-failed"
)

// HealthCheckIDPrefix starts every health check's request id; the restore
// a health check asks for carries the same id, which is how its outcome
// finds its way back to the check.
const HealthCheckIDPrefix = "hc-"

// NewHealthCheckID derives a health check's request id from parts.
func NewHealthCheckID(parts ...string) string { return HealthCheckIDPrefix + DeriveID(parts...) }

// HealthReasons is every HealthCheckFailed.Reason, in a stable order.
func HealthReasons() []string {
	return []string{HealthReasonTimeout, HealthReasonGuestFailure, HealthReasonBootFailed, HealthReasonRestoreFailed}
}

// Health check methods: what proves the guest booted.
const (
	// HealthMethodGuestMetrics: VM_guest_metrics.PV_drivers_detected.
	HealthMethodGuestMetrics = "guest-metrics"
	// HealthMethodXenStore: the guest's verdict in
	// vm-data/xo-backup-health-check (VMs tagged
	// xo-backup-health-check-xenstore).
	HealthMethodXenStore = "xenstore"
)

// HealthCheckRequested: boot one backup as a throw-away test VM on SR of
// Pool, without network interfaces, and wait for its guest. The work item:
// one per VM after a backup or replication of a job with a health_check,
// or one on demand. BackupID names a full backup or restore point; for a
// replica, CopyUUID names the standby copy to clone instead (BackupID then
// is "replica:<copy uuid>").
type HealthCheckRequested struct {
	RequestID   string `json:"request_id"`
	BackupID    string `json:"backup_id"`
	CopyUUID    string `json:"copy_uuid,omitempty"`
	RunID       string `json:"run_id,omitempty"`
	Job         string `json:"job,omitempty"`
	Schedule    string `json:"schedule,omitempty"`
	VMUUID      string `json:"vm_uuid,omitempty"`
	VMName      string `json:"vm_name,omitempty"`
	Pool        string `json:"pool"`
	SR          string `json:"sr"`
	Method      string `json:"method"`
	TimeoutMS   int64  `json:"timeout_ms"`
	RequestedBy string `json:"requested_by,omitempty"`
}

func (p HealthCheckRequested) EventType() Type         { return TypeHealthCheckRequested }
func (p HealthCheckRequested) SubjectKeys() []string   { return []string{p.RequestID} }
func (p HealthCheckRequested) scope() (string, string) { return p.RequestID, p.Job }

func (p HealthCheckRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.healthHead(p.RequestID, p.BackupID, p.Pool, p.VMUUID)
	if !strings.HasPrefix(p.RequestID, HealthCheckIDPrefix) {
		c.fail("request_id", fmt.Sprintf("%q", p.RequestID), "does not start with "+HealthCheckIDPrefix)
	}
	c.optUUID("copy_uuid", p.CopyUUID)
	if p.RunID != "" {
		c.id("run_id", p.RunID)
	}
	c.text("job", p.Job)
	c.text("schedule", p.Schedule)
	c.text("vm_name", p.VMName)
	c.name("sr", p.SR)
	c.oneOf("method", p.Method, HealthMethodGuestMetrics, HealthMethodXenStore)
	if p.TimeoutMS <= 0 {
		c.fail("timeout_ms", "", "must be positive")
	}
	c.text("requested_by", p.RequestedBy)
	return c.err()
}

// HealthCheckStarted: the test VM exists (imported or cloned, tagged
// xbr:healthcheck, without VIFs) and is being started.
type HealthCheckStarted struct {
	RequestID  string `json:"request_id"`
	BackupID   string `json:"backup_id"`
	Job        string `json:"job,omitempty"`
	VMUUID     string `json:"vm_uuid,omitempty"`
	Pool       string `json:"pool"`
	SR         string `json:"sr"`
	TestVMUUID string `json:"test_vm_uuid"`
}

func (p HealthCheckStarted) EventType() Type         { return TypeHealthCheckStarted }
func (p HealthCheckStarted) SubjectKeys() []string   { return []string{p.RequestID} }
func (p HealthCheckStarted) scope() (string, string) { return p.RequestID, p.Job }

func (p HealthCheckStarted) Validate() error {
	c := checker{t: p.EventType()}
	c.healthHead(p.RequestID, p.BackupID, p.Pool, p.VMUUID)
	c.text("job", p.Job)
	c.name("sr", p.SR)
	c.uuid("test_vm_uuid", p.TestVMUUID)
	return c.err()
}

// HealthCheckCompleted: the backup booted: its guest reported (Method) in
// BootMS after the start, and the test VM and its disks were destroyed.
type HealthCheckCompleted struct {
	RequestID  string `json:"request_id"`
	BackupID   string `json:"backup_id"`
	Job        string `json:"job,omitempty"`
	VMUUID     string `json:"vm_uuid,omitempty"`
	Pool       string `json:"pool"`
	SR         string `json:"sr"`
	Method     string `json:"method"`
	BootMS     int64  `json:"boot_ms"`
	DurationMS int64  `json:"duration_ms"`
}

func (p HealthCheckCompleted) EventType() Type         { return TypeHealthCheckCompleted }
func (p HealthCheckCompleted) SubjectKeys() []string   { return []string{p.RequestID} }
func (p HealthCheckCompleted) scope() (string, string) { return p.RequestID, p.Job }

func (p HealthCheckCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.healthHead(p.RequestID, p.BackupID, p.Pool, p.VMUUID)
	c.text("job", p.Job)
	c.name("sr", p.SR)
	c.oneOf("method", p.Method, HealthMethodGuestMetrics, HealthMethodXenStore)
	c.nonNegative("boot_ms", p.BootMS)
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}

// HealthCheckFailed: the backup did not prove it boots. Reason is one of
// HealthReasons; the test VM and its disks were destroyed all the same.
type HealthCheckFailed struct {
	RequestID  string `json:"request_id"`
	BackupID   string `json:"backup_id"`
	Job        string `json:"job,omitempty"`
	VMUUID     string `json:"vm_uuid,omitempty"`
	Pool       string `json:"pool"`
	SR         string `json:"sr,omitempty"`
	Reason     string `json:"reason"`
	Error      string `json:"error"`
	DurationMS int64  `json:"duration_ms"`
}

func (p HealthCheckFailed) EventType() Type         { return TypeHealthCheckFailed }
func (p HealthCheckFailed) SubjectKeys() []string   { return []string{p.RequestID} }
func (p HealthCheckFailed) scope() (string, string) { return p.RequestID, p.Job }

func (p HealthCheckFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.healthHead(p.RequestID, p.BackupID, p.Pool, p.VMUUID)
	c.text("job", p.Job)
	c.text("sr", p.SR)
	c.oneOf("reason", p.Reason, HealthReasons()...)
	c.errorText("error", p.Error)
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}

func (c *checker) healthHead(request, backup, pool, vm string) {
	c.id("request_id", request)
	c.backupID("backup_id", backup)
	c.name("pool", pool)
	c.optUUID("vm_uuid", vm)
}
