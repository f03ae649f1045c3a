package events

import "time"

// Protection states of a VM, worst first (the protection query's State).
const (
	ProtectionMissing     = "missing"     // a job names it by UUID; no pool has it
	ProtectionFailing     = "failing"     // the last attempt of a job that selects it failed
	ProtectionLate        = "late"        // no success within a job's RPO
	ProtectionUnprotected = "unprotected" // no job selects it
	ProtectionNew         = "new"         // restored by xbr within a selecting job's RPO, not copied yet
	ProtectionOK          = "ok"          // every job that selects it succeeded within its RPO
	ProtectionExcluded    = "excluded"    // tagged xo:no-bak
)

// ProtectionStates are the states, worst first.
func ProtectionStates() []string {
	return []string{ProtectionMissing, ProtectionFailing, ProtectionLate, ProtectionUnprotected,
		ProtectionNew, ProtectionOK, ProtectionExcluded}
}

// Kinds of last good copy.
const (
	CopyBackup   = "backup"   // full or incremental backup on a remote
	CopyReplica  = "replica"  // a standby copy on another pool
	CopySnapshot = "snapshot" // a rolling snapshot on the VM's own pool
)

// ProtectionRequest filters the protection query's answer.
type ProtectionRequest struct {
	Pool   string   `json:"pool,omitempty"`   // only this pool's VMs
	States []string `json:"states,omitempty"` // only VMs in these states
}

// ProtectionVM is one VM's protection, as the protection query answers it.
type ProtectionVM struct {
	Pool   string `json:"pool,omitempty"` // "" for a missing VM
	UUID   string `json:"vm_uuid"`
	Name   string `json:"vm_name,omitempty"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Jobs are the jobs that select the VM (or name it, when missing).
	Jobs []string `json:"jobs,omitempty"`
	// RPOSeconds is the tightest RPO of those jobs (0: none).
	RPOSeconds int64 `json:"rpo_seconds,omitempty"`
	// AgeSeconds is the age of the newest good copy of any kind (-1: none).
	AgeSeconds int64 `json:"age_seconds"`
	// Last is the newest good copy per kind and job.
	Last []LastCopy `json:"last,omitempty"`
}

// LastCopy is the newest successful copy of a VM by one job.
type LastCopy struct {
	Kind  string    `json:"kind"` // CopyBackup, CopyReplica or CopySnapshot
	Job   string    `json:"job"`
	At    time.Time `json:"at"`
	Where string    `json:"where,omitempty"` // remotes, standby pool, or the VM's pool
	Run   string    `json:"run_id,omitempty"`
}
