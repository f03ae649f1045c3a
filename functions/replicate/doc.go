// Package replicate is xbr's replication function ("Disaster Recovery", Xen
// Orchestra's full replication): jobs of mode replicate keep ready-to-start
// copies of VMs on a standby pool, and a failover starts one when the main
// pool is lost.
//
// One replication of one VM (Replicate):
//
//  1. On the standby pool, a completed copy already made by the same run (a
//     redelivered request) is returned as it is. Otherwise the job's copies
//     of the VM without xo:backup:sr — interrupted transfers — are
//     destroyed, unless XAPI is importing them right now.
//  2. The VM is snapshotted under Xen Orchestra's temporary name; the
//     snapshot gets xo:backup:job|schedule|vm|datetime (the job's and the
//     schedule's ids, their names in xbr:backup:job_name|schedule_name;
//     copies keyed by the names, from before ids, still count as the
//     job's) and xbr:backup:run, start
//     and start_on blocked, its "[XO Backup <job>] <vm>" name and
//     is_a_template false. The copy inherits keys and blocks through the
//     XVA, so a copy whose process died right after the import is still
//     start-blocked and still found (and swept) as interrupted.
//  3. GET /export of the snapshot (compressed by XAPI with gzip or zstd when
//     the job's xapi_compression says so) is streamed straight into
//     PUT /import on the target SR: no file, bounded memory. A failed or
//     cut export breaks the import, which leaves no VM.
//  4. The copy is named "<vm> - <job> - (<YYYYMMDDTHHMMSSZ>)", tagged
//     "Disaster Recovery", start-blocked, taken out of HA (tagged "HA
//     disabled" when its source was in HA), and gets its keys plus xbr's
//     transfer facts; xo:backup:sr (the target SR's uuid) is written last.
//  5. The snapshot is destroyed with its disks, whatever happened.
//  6. Only then are the standby copies of the VM by this job and schedule
//     on that SR beyond copy_retention destroyed, oldest recovery point
//     first. A copy that was failed over (start unblocked), or that runs
//     although start is blocked, no longer counts and is never pruned.
//     Each copy is read again right before it is destroyed and destroyed
//     only while still halted and start-blocked, never shut down
//     (xapi.DestroyHaltedVM): a copy a failover took meanwhile is kept
//     (Result.Kept).
//
// The function declares itself into the run skeleton of shared/runs
// (plan.go), as export does, which gives it three handlers on their own
// durable consumers: the planner (xbr.schedule.due of a replicate
// job: admission and VM selection through shared/runs and shared/vmselect),
// the worker (replicate's own; a VM it could not replicate by its work
// item's last delivery is reported xbr.replicate.failed by the skeleton)
// and the runner (xbr.replicate.completed|failed: next VM, then
// xbr.run.completed).
//
// The per-VM work item is xbr.replicate.requested, as export's is
// xbr.export.requested. The planner (and the runner, as slots free up)
// publishes it with a derived id when the run admits the VM; the worker
// consumes it, publishes xbr.replicate.started as each attempt begins
// (with its attempt number, as export.started) and xbr.replicate.progress
// as bytes flow, and returns xbr.replicate.completed or
// xbr.replicate.failed (derived ids). A redelivered request whose copy
// completed returns the same completed event: its facts are read back from
// the copy's other_config. Until events contract 2.0.0 the work item was
// xbr.replicate.started; one delivered before an upgrade and redelivered
// since (no attempt number) is still done. The planner's consumer reads
// xbr.schedule.due.replicate.> only: the fires of replicate jobs.
//
// Xen Orchestra's jobId and scheduleId are xbr's job and schedule names.
// The job's xapi_compression is the compression on the wire; its
// compression (xbr's own) does not apply to replication.
//
// Failover is an event pair, on a fourth durable consumer
// (replicate-failover): xbr.failover.requested (published by the CLI and
// the gateway, with who asked) is answered by xbr.failover.completed or
// xbr.failover.failed. Before touching the copy the handler looks for the
// source VM on the job's source pools, and at the other copies of it on
// the standby pools searched: while the source or another copy (one an
// earlier failover started) runs or is paused, the failover is refused (a
// failed event with refused: true) unless the request says force; a source pool that does not answer within 15 s is
// the disaster case, and the failover proceeds, saying so in the event.
// Errors are never retried by the consumer: they are failed events, and
// the operator asks again (failing over twice is harmless).
//
// Query (served by every xbr server in the micro service "xbr", see API):
// dr.ls (events.QueryDRList) lists the copies with their recovery point.
package replicate
