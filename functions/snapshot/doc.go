// Package snapshot is the function that takes Xen Orchestra's rolling
// snapshots. It declares itself into the run skeleton (shared/runs.Flow, in
// snapshot.go and plan.go): its topics (snapshot.requested, no runner: the
// worker records each VM's result itself), its VMs (the job's selection),
// its work item (snapshot.requested with the schedule's retention) and its
// report (snapshot.completed or failed). The skeleton plans a run on
// xbr.schedule.due.snapshot.> (its consumer reads the fires of snapshot jobs
// only) and gives up as every
// run-shaped function does; on each request the worker snapshots the VM
// exactly as XO does:
//
//  1. VM.snapshot with the temporary name "xo-backup-temp-snapshot-name";
//  2. the snapshot VM and each of its disks get XO's other_config keys
//     xo:backup:job, xo:backup:schedule, xo:backup:vm and
//     xo:backup:datetime ("20231012T10:11:12Z", with colons, as XO writes it);
//  3. it is renamed "[XO Backup <job>] <vm name>";
//  4. is_a_template is cleared.
//
// Before the snapshot, XO's backup keys are removed from the source VM,
// because a snapshot copies its VM's other_config (XO's resetVmOtherConfig).
// A replication's copy (keys naming another VM; start-blocked, or its
// transfer complete) keeps them: XO strips them too, but xbr dr, failover
// and copy_retention find copies by them. (A job selects only copies that
// were failed over: standby copies never are, see shared/vmselect.)
//
// A snapshot left with the temporary name by a crash between steps 1 and 2
// carries no keys; the prune function's sweep destroys it once it is old.
// Pruning the snapshots beyond snapshot_retention is the prune function's
// job, after xbr.snapshot.completed.
//
// Idempotency: every attempt on a VM first records its timestamp in the
// run (runs.RecordAttempt), and a redelivered request looks for a snapshot
// stamped with one of the recorded timestamps before taking a new one, so a
// redelivery never leaves two snapshots of one request. Follow-up event ids
// are derived from the run and the VM.
//
// A full job's schedule with snapshot_retention is not handled here: Xen
// Orchestra keeps the exported snapshot as the rolling snapshot, which only
// the export function can do (see docs/retention.md).
package snapshot
