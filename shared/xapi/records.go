package xapi

import "time"

// PowerState is a VM's power state.
type PowerState string

// The VM power states.
const (
	Halted    PowerState = "Halted"
	Paused    PowerState = "Paused"
	Running   PowerState = "Running"
	Suspended PowerState = "Suspended"
)

// TaskStatus is a task's status.
type TaskStatus string

// The task statuses.
const (
	TaskPending    TaskStatus = "pending"
	TaskSuccess    TaskStatus = "success"
	TaskFailure    TaskStatus = "failure"
	TaskCancelling TaskStatus = "cancelling"
	TaskCancelled  TaskStatus = "cancelled"
)

// Pool is the fields of a pool record the project uses.
type Pool struct {
	UUID            string
	NameLabel       string
	NameDescription string
	Master          HostRef
	DefaultSR       SRRef
	OtherConfig     map[string]string
	Tags            []string
}

// Host is the fields of a host record the project uses.
type Host struct {
	UUID            string
	NameLabel       string
	NameDescription string
	Hostname        string
	Address         string
	Enabled         bool
	APIVersionMajor int64
	APIVersionMinor int64
	SoftwareVersion map[string]string
	ControlDomain   VMRef
	ResidentVMs     []VMRef
	PIFs            []Ref
	OtherConfig     map[string]string
	Tags            []string
}

// SR is the fields of a storage repository record the project uses.
type SR struct {
	UUID                string
	NameLabel           string
	NameDescription     string
	Type                string // ext, lvm, nfs, iso, udev, ...
	ContentType         string // user, iso, disk, ...
	PhysicalSize        int64
	PhysicalUtilisation int64
	VirtualAllocation   int64
	Shared              bool
	VDIs                []VDIRef
	PBDs                []Ref
	OtherConfig         map[string]string
	SMConfig            map[string]string
	AllowedOperations   []string
	Tags                []string
}

// Network is the fields of a network record the project uses.
type Network struct {
	UUID            string
	NameLabel       string
	NameDescription string
	Bridge          string
	MTU             int64
	VIFs            []Ref
	PIFs            []Ref
	OtherConfig     map[string]string
	Tags            []string
	// Purpose holds "nbd" (xapi-nbd serves over TLS) or "insecure_nbd" (in
	// plain text); the two exclude each other pool-wide.
	Purpose []string
}

// VM is the fields of a VM record the project uses. Templates, snapshots and
// the control domain (dom0) are VMs too.
type VM struct {
	UUID              string
	NameLabel         string
	NameDescription   string
	PowerState        PowerState
	IsATemplate       bool
	IsDefaultTemplate bool
	IsControlDomain   bool
	IsASnapshot       bool
	SnapshotOf        VMRef
	SnapshotTime      time.Time // the epoch when not a snapshot
	Snapshots         []VMRef
	SnapshotInfo      map[string]string
	SnapshotMetadata  string
	Parent            VMRef
	Children          []VMRef
	OtherConfig       map[string]string
	Tags              []string
	BlockedOperations map[string]string // operation -> reason
	AllowedOperations []string
	CurrentOperations map[string]string // task ref -> operation
	VBDs              []VBDRef
	VIFs              []Ref
	ResidentOn        HostRef
	MemoryStaticMax   int64
	MemoryDynamicMax  int64
	MemoryDynamicMin  int64
	MemoryStaticMin   int64
	MemoryTarget      int64
	VCPUsMax          int64
	VCPUsAtStartup    int64
	Domid             int64
	DomainType        string // hvm, pv, pv_in_pvh, pvh, unspecified
	Metrics           Ref
	GuestMetrics      Ref
	HVMBootParams     map[string]string
	Platform          map[string]string
	HARestartPriority string // "restart", "best-effort", or "" (not protected by HA)
}

// VBD is the fields of a VBD record the project uses.
type VBD struct {
	UUID              string
	VM                VMRef
	VDI               VDIRef // null when Empty
	Type              string // Disk, CD, Floppy
	Mode              string // RO, RW
	Userdevice        string
	Device            string
	Bootable          bool
	Empty             bool
	CurrentlyAttached bool
	OtherConfig       map[string]string
}

// VDI is the fields of a virtual disk record the project uses.
type VDI struct {
	UUID                string
	NameLabel           string
	NameDescription     string
	SR                  SRRef
	VBDs                []VBDRef
	VirtualSize         int64
	PhysicalUtilisation int64
	Type                string // user, system, suspend, ...
	ReadOnly            bool
	Sharable            bool
	Managed             bool
	Missing             bool
	IsASnapshot         bool
	SnapshotOf          VDIRef
	SnapshotTime        time.Time
	Snapshots           []VDIRef
	SMConfig            map[string]string
	OtherConfig         map[string]string
	Tags                []string
	CBTEnabled          bool
	AllowedOperations   []string
	CurrentOperations   map[string]string
}

// Task is a task record.
type Task struct {
	UUID              string
	NameLabel         string
	NameDescription   string
	AllowedOperations []string
	CurrentOperations map[string]string
	Created           time.Time
	Finished          time.Time
	Status            TaskStatus
	ResidentOn        HostRef
	Progress          float64
	Type              string
	Result            string // an XML-RPC value as text; see ParseTaskResult
	ErrorInfo         []string
	OtherConfig       map[string]string
	SubtaskOf         TaskRef
	Subtasks          []TaskRef
	Backtrace         string
}
