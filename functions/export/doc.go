// Package export is xbr's full-backup function. It declares itself into the
// run skeleton of shared/runs (plan.go: its topics, its VMs, its work item
// export.requested, its results and failure report), which gives it three
// handlers, each on its own durable consumer; the worker is export's own:
//
//   - the planner, on xbr.schedule.due.full.> (the fires of full jobs; the
//     mode is in the subject, so other modes never reach it): admits the fire through
//     shared/runs (a job never runs twice at once: skip or queue), resolves
//     the VMs on the job's pools (shared/vmselect), records the run and
//     returns xbr.run.started and the first <concurrency> xbr.export.requested;
//   - the worker, on xbr.export.requested: snapshots the VM the way Xen
//     Orchestra does (temporary name, xo:backup:* keys on the snapshot and
//     its disks, readable name, is_a_template false), streams /export of the
//     snapshot once, compresses it (in process, or by XAPI), hashes it and
//     writes it to every remote of the job at once, then has the catalog
//     commit it on each remote (catalog.Commit: the .xva.checksum, the .json
//     last), under the VM folder's lock (catalog.LockVM). The snapshot and its disks are destroyed whatever
//     happens. A remote Xen Orchestra encrypts is refused before any of it
//     (catalog.CheckWritable). It returns xbr.export.completed or xbr.export.failed, and
//     publishes xbr.export.started and xbr.export.progress as it goes;
//   - the runner, on xbr.export.completed|failed: records the VM's result,
//     returns the request of the next queued VM and, after the last one,
//     xbr.run.completed.
//
// Design decisions:
//
//   - Retries are the worker's own loop within one delivery (Job.Retries,
//     Job.RetryBackoff doubling per attempt), so each job keeps its own
//     back-off; bus heartbeats keep the message while it waits. A process
//     that dies mid-attempt gets the message redelivered and starts over.
//     Every follow-up id is derived, so nothing is published twice.
//   - All remotes or none: one stream is fanned out to every remote; if any
//     remote fails, every upload is aborted and whatever was committed for
//     this attempt is deleted by catalog.Delete (.json before .xva, so no
//     half backup is ever listed). Xen Orchestra instead drops a failing target and goes on; we
//     keep the remotes identical so retention stays aligned, and a retry
//     writes all of them again.
//   - A backup's timestamp is claimed on every remote before anything is
//     written (catalog.Claim: a small object created only where none
//     exists, If-None-Match on S3), then the files are checked again: on S3
//     there is no VM-folder lock, and two jobs of one VM starting in the
//     same second would otherwise write the same keys. A writer that finds
//     the second claimed or used takes the next one; a claim is never
//     waited for nor taken over, so one left by a crash costs a second and
//     is removed by its run's next attempt or by the sweep. The claim is
//     released once the backup is committed or removed.
//   - Idempotence: every attempt records its backup timestamp in the run
//     state before writing. A redelivered request first looks at those
//     timestamps: a backup of this run committed on every remote is returned
//     as completed again; a partial set, orphan .xva files, temp files and
//     snapshots carrying this run's key are removed before a new attempt.
//   - The VM folder's lock (Xen Orchestra's) is waited for while XO holds
//     it (XO's backup of the VM), renewing the run's lock meanwhile
//     (runs.Hold.Keep), bounded by the job's vm_timeout. A lock
//     lost while held (xbr's refresh came late and XO took it over) cancels
//     the attempt, and each commit (data renamed into place, .checksum and
//     .json) is preceded by a Check of the locks: nothing is written into a
//     folder XO holds. What the attempt committed there before it found the
//     loss is left to the folder's sweeps (XO's cleanVm, the run's next
//     attempt), never removed under XO's lock; the VM's error says the lock
//     was lost, and the job's retries apply.
//   - The rate limit is one token bucket per run in each process, shared by
//     all the streams of that run that the process carries.
//   - export.started and export.progress are published directly (a side
//     channel) as they happen; completed and failed are follow-ups.
//
// Xen Orchestra's jobId and scheduleId (in the .json and in xo:backup:job and
// xo:backup:schedule) are the job's and schedule's UUIDs (config.Job.ID,
// config.Schedule.ID: configured, or UUIDv5 of the name); the names stay in
// the .json's xbr object for display.
package export
