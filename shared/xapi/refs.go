package xapi

// NullRef is XAPI's null reference, used for unset ref fields.
const NullRef = "OpaqueRef:NULL"

// Ref is an untyped XAPI object reference ("OpaqueRef:<uuid>").
type Ref string

// IsNull reports whether r is empty or OpaqueRef:NULL.
func (r Ref) IsNull() bool { return r == "" || r == NullRef }

// Object is a typed reference: a ref together with its XAPI class, so one
// method (SetNameLabel, AddToOtherConfig, ...) serves every class.
type Object interface {
	// Class is the class name as XAPI's wire names use it ("VM", "VDI", "pool").
	Class() string
	// Ref is the object's reference.
	Ref() Ref
}

// VMRef references a VM (including templates, snapshots and dom0).
type VMRef string

// VDIRef references a virtual disk.
type VDIRef string

// VBDRef references a virtual block device (the VM-to-VDI link).
type VBDRef string

// SRRef references a storage repository.
type SRRef string

// TaskRef references a task.
type TaskRef string

// PoolRef references the pool.
type PoolRef string

// HostRef references a host.
type HostRef string

// NetworkRef references a network.
type NetworkRef string

func (r VMRef) Class() string      { return "VM" }
func (r VDIRef) Class() string     { return "VDI" }
func (r VBDRef) Class() string     { return "VBD" }
func (r SRRef) Class() string      { return "SR" }
func (r TaskRef) Class() string    { return "task" }
func (r PoolRef) Class() string    { return "pool" }
func (r HostRef) Class() string    { return "host" }
func (r NetworkRef) Class() string { return "network" }

func (r VMRef) Ref() Ref      { return Ref(r) }
func (r VDIRef) Ref() Ref     { return Ref(r) }
func (r VBDRef) Ref() Ref     { return Ref(r) }
func (r SRRef) Ref() Ref      { return Ref(r) }
func (r TaskRef) Ref() Ref    { return Ref(r) }
func (r PoolRef) Ref() Ref    { return Ref(r) }
func (r HostRef) Ref() Ref    { return Ref(r) }
func (r NetworkRef) Ref() Ref { return Ref(r) }

func (r VMRef) IsNull() bool      { return Ref(r).IsNull() }
func (r VDIRef) IsNull() bool     { return Ref(r).IsNull() }
func (r VBDRef) IsNull() bool     { return Ref(r).IsNull() }
func (r SRRef) IsNull() bool      { return Ref(r).IsNull() }
func (r TaskRef) IsNull() bool    { return Ref(r).IsNull() }
func (r PoolRef) IsNull() bool    { return Ref(r).IsNull() }
func (r HostRef) IsNull() bool    { return Ref(r).IsNull() }
func (r NetworkRef) IsNull() bool { return Ref(r).IsNull() }

var (
	_ Object = VMRef("")
	_ Object = VDIRef("")
	_ Object = VBDRef("")
	_ Object = SRRef("")
	_ Object = TaskRef("")
	_ Object = PoolRef("")
	_ Object = HostRef("")
	_ Object = NetworkRef("")
)
