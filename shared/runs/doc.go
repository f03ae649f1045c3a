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
//     several workers never lose an update.
//   - the job's concurrency: Start marks the first N VMs active; each Finish
//     marks the next queued VM active and records which VM released it, so a
//     redelivered completion re-derives exactly the same follow-ups.
//   - the end: when every VM is done the run gets its status (success,
//     failure or partial) and the lock is released.
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
//	lock.<job>   {run_id, job, schedule, acquired, renewed}
//	run.<run-id> the Run as JSON
package runs
