// Package vmselect decides which VMs a job backs up, from the VM records of
// the job's pools, as Xen Orchestra evaluates a job's VM pattern:
//
//   - explicit selection: the listed UUIDs;
//   - smart selection: every VM, narrowed by pool, tags (all required) and
//     power state.
//
// Templates, snapshots, control domains, health checks' throw-away test VMs
// (tagged "xbr:healthcheck") and replications' standby copies (start
// blocked) are never selected, and a VM tagged "xo:no-bak" (or
// "xo:no-bak=<reason>") is always excluded: even when listed by UUID, such a
// VM is rejected with the reason, so the run reports it skipped. A test VM
// lives for minutes under a new uuid each check, and a standby copy is the
// protection of the VM it copies (a copy that was failed over is a VM
// again); a backup of either would be a backup nobody asked for, of a VM
// about to vanish or be replaced. Every job kind selects through here
// (shared/runs.Resolve), so this is the one place these rules live.
// Selection is a pure function of its inputs: the caller fetches the
// records.
package vmselect
