package events

// What a failover knew of the source VM (FailoverCompleted.Source,
// FailoverFailed.Source).
const (
	SourceHalted      = "halted"      // the source pool answered: the VM is not running
	SourceRunning     = "running"     // the source pool answered: the VM runs (refused unless forced)
	SourceAbsent      = "absent"      // the source pools answered: no such VM
	SourceUnreachable = "unreachable" // no source pool answered: the disaster case, failover proceeds
)

// FailoverRequested: fail a VM over to one of its standby copies (from the
// CLI, the web page, the webhook or chat). Copy is "latest" (absent) or a
// recovery point YYYYMMDDTHHMMSSZ; Pool limits the search to one standby
// pool; Force fails over even while the source VM, or another copy of it,
// is running. A confirmed request (the CLI on a terminal, the DR page's
// form) names the copy shown: its own uuid in VM and its recovery point in
// Copy, so that copy is failed over or, when it is gone, none; "latest" is
// the newest complete copy when the request is handled.
type FailoverRequested struct {
	RequestID   string `json:"request_id"`
	VM          string `json:"vm"`
	Copy        string `json:"copy,omitempty"`
	Pool        string `json:"pool,omitempty"`
	Start       bool   `json:"start,omitempty"`
	Force       bool   `json:"force,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
}

func (p FailoverRequested) EventType() Type         { return TypeFailoverRequested }
func (p FailoverRequested) SubjectKeys() []string   { return []string{p.RequestID} }
func (p FailoverRequested) scope() (string, string) { return p.RequestID, "" }

func (p FailoverRequested) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.name("vm", p.VM)
	if p.Copy != "" && p.Copy != "latest" {
		c.xoTime("copy", p.Copy)
	}
	c.text("pool", p.Pool)
	c.text("requested_by", p.RequestedBy)
	return c.err()
}

// FailoverCompleted: start is unblocked on the copy (and it was booted when
// asked). Source says what was known of the source VM on SourcePool; Note
// says why the failover went ahead when the source could not be checked or
// was forced.
type FailoverCompleted struct {
	RequestID     string `json:"request_id"`
	VM            string `json:"vm"`
	VMUUID        string `json:"vm_uuid"`
	CopyUUID      string `json:"copy_uuid"`
	CopyName      string `json:"copy_name"`
	Pool          string `json:"pool"`
	Job           string `json:"job"`
	RecoveryPoint string `json:"recovery_point"`
	Unblocked     bool   `json:"unblocked,omitempty"`
	Started       bool   `json:"started,omitempty"`
	PowerState    string `json:"power_state"`
	Source        string `json:"source"`
	SourcePool    string `json:"source_pool,omitempty"`
	Forced        bool   `json:"forced,omitempty"`
	Note          string `json:"note,omitempty"`
	RequestedBy   string `json:"requested_by,omitempty"`
}

func (p FailoverCompleted) EventType() Type         { return TypeFailoverCompleted }
func (p FailoverCompleted) SubjectKeys() []string   { return []string{p.RequestID} }
func (p FailoverCompleted) scope() (string, string) { return p.RequestID, p.Job }

func (p FailoverCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.name("vm", p.VM)
	c.uuid("vm_uuid", p.VMUUID)
	c.uuid("copy_uuid", p.CopyUUID)
	c.name("copy_name", p.CopyName)
	c.name("pool", p.Pool)
	c.name("job", p.Job)
	c.xoTime("recovery_point", p.RecoveryPoint)
	c.name("power_state", p.PowerState)
	c.oneOf("source", p.Source, SourceHalted, SourceRunning, SourceAbsent, SourceUnreachable)
	c.text("source_pool", p.SourcePool)
	c.text("requested_by", p.RequestedBy)
	if len(p.Note) > 4096 {
		c.fail("note", "", "is longer than 4096 bytes")
	}
	return c.err()
}

// FailoverFailed: nothing was failed over. Refused means the failover was
// refused because the source VM (Source, SourcePool) or another copy of it
// (named in Error) is running and force was not given; otherwise Error says
// what failed.
type FailoverFailed struct {
	RequestID   string `json:"request_id"`
	VM          string `json:"vm"`
	CopyUUID    string `json:"copy_uuid,omitempty"`
	Pool        string `json:"pool,omitempty"`
	Refused     bool   `json:"refused,omitempty"`
	Source      string `json:"source,omitempty"`
	SourcePool  string `json:"source_pool,omitempty"`
	Error       string `json:"error"`
	RequestedBy string `json:"requested_by,omitempty"`
}

func (p FailoverFailed) EventType() Type         { return TypeFailoverFailed }
func (p FailoverFailed) SubjectKeys() []string   { return []string{p.RequestID} }
func (p FailoverFailed) scope() (string, string) { return p.RequestID, "" }

func (p FailoverFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.id("request_id", p.RequestID)
	c.name("vm", p.VM)
	c.optUUID("copy_uuid", p.CopyUUID)
	c.text("pool", p.Pool)
	if p.Source != "" {
		c.oneOf("source", p.Source, SourceHalted, SourceRunning, SourceAbsent, SourceUnreachable)
	}
	c.text("source_pool", p.SourcePool)
	c.errorText("error", p.Error)
	c.text("requested_by", p.RequestedBy)
	return c.err()
}
