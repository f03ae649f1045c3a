// Package vmselect decides which VMs a job backs up, from the VM records of
// the job's pools, as Xen Orchestra evaluates a job's VM pattern:
//
//   - explicit selection: the listed UUIDs;
//   - smart selection: every VM, narrowed by pool, tags (all required) and
//     power state.
//
// Templates, snapshots and control domains are never selected, and a VM
// tagged "xo:no-bak" (or "xo:no-bak=<reason>") is always excluded, even when
// listed by UUID. Selection is a pure function of its inputs: the caller
// fetches the records.
package vmselect
