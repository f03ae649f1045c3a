// Package runs coordinates the runs of xbr's jobs over a NATS KV bucket, so
// that any number of worker processes and replicas agree on them:
//
//   - a per-job lock: a job never runs twice at once. A fire that finds its
//     job running is skipped (reported as "already running (run <id>)", as
//     Xen Orchestra does) or, with on_overlap: queue, refused with a
//     *BusyError, which the planner returns so the bus redelivers the fire
//     later; it runs once the active run has ended.
//   - the run's state: its VMs, which are queued, active or done, and their
//     results. Every change is a compare-and-set (KV Update with the
//     revision read), retried on conflict, so concurrent completions on
//     several workers never lose an update. What one VM's worker reads and
//     writes does not grow with the run: the run's header holds counters,
//     not VMs; its plan (the VMs in order) is written once and decoded once
//     per process; each VM has a record of its own (GetVM reads one VM).
//   - the job's concurrency: Start marks the first N VMs active; each VM's
//     end takes the next ordinal f in the header and releases the VM at
//     request position N+f, so a redelivered end, which finds its ordinal
//     (pending in the header, then on its VM's record), re-derives exactly
//     the same follow-ups and is never counted twice.
//   - the end: the end that takes the last ordinal gives the run its status
//     (success, failure or partial, from the header's counters) in the same
//     compare-and-set, so a run ends exactly once; the lock is released.
//
// Every decision is written before the caller publishes anything, and a
// repeated call (a redelivered event) returns the recorded decision instead
// of deciding again, so follow-ups built from it with derived event ids are
// published once.
//
// Crashes. The lock records when its run last made progress. Start, Finish,
// RecordAttempt and Touch renew it; an export worker calls Touch every few
// seconds while it streams. A lock not renewed for StaleAfter (30 minutes by
// default) is stale: the next fire of the job takes it over and the old run
// is ended with status "interrupted" (Xen Orchestra's status for a run whose
// process went away). A run whose workers merely restarted is not affected:
// its events are redelivered and it goes on renewing the lock.
//
// The handlers. A run-shaped function (export, replicate: one work request
// per VM, one result per VM) describes itself as a Flow (its mode, how it
// selects VMs, how a VM becomes a request, how a VM's end reads) and gets
// its planner (NewPlanner: schedule.due → run.started and the first
// requests) and its runner (NewRunner: a VM's end → the next request, then
// run.completed) from here; ConsumeAll runs its consumers.
//
// Giving up. No run waits for ever. A planner that keeps failing gives the
// fire up after PlanAttempts deliveries or on its last one (GivesUp), and a
// handler advancing a run does so on its last delivery (GivesUpRun): the run
// is recorded failed (Fail, Abort) and its run.completed — or, when the
// recorded run cannot make a valid one, a run.completed with the status and
// reason alone — is published while the event goes to the DLQ (GiveUp).
//
// Bucket layout (keys are KV-safe encodings of the names):
//
//	lock.<job>                   {run_id, job, schedule, acquired, renewed}
//	run.<run-id>                 the header: the Run without its VMs, the plan's key,
//	                             counters (requested, initial, finished, succeeded,
//	                             failed), pending ends, ended_by; a run that ended as it
//	                             started (or was recorded by an earlier xbr) has its VMs
//	                             inline instead
//	run.<run-id>.plan.<nonce>    the VMs in order, written once before the header (a
//	                             fire planned twice at once writes two; the header names
//	                             the one that counts)
//	run.<run-id>.vm.<index>      one VM's attempts, result and ordinal
//
// A plan is one KV value: at about 150 bytes per VM, the server's maximum
// payload (1 MiB by default) bounds a run to some 6,000 VMs.
package runs
