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
// process went away). The new lock, and the new run's header, remember the
// lock taken over: every admission of that fire, a redelivery included,
// interrupts the old run again (a no-op once it is done) and returns it, so
// its run.completed is published even if the first admission's events were
// lost or its planner died between taking the lock and interrupting the
// run. A run whose workers merely restarted is not affected: its events are
// redelivered and it goes on renewing the lock. A worker of the old run that
// was only stalled (its host suspended, NATS out of reach) learns it at its
// next renewal: the Hold of its work ends the work's context with
// ErrNotHolder as the cause, so it stops at its next safe point instead of
// working beside the new run, and reports why (its result is late and
// ignored).
//
// The skeleton. Every run-shaped function (export, replicate, snapshot:
// one work request per VM of a run, one result per VM) declares itself as
// a Flow — what is specific to it — and gets the shared mechanism from
// here:
//
//   - its topics (Topics): the function's name, the mode of its jobs, its
//     work request and the events that end a VM's work. They give its
//     consumers (Flow.Consumers: <function>-plan on the fires of its mode,
//     <prefix>.schedule.due.<mode>.>, <function>-worker on the request,
//     <function>-runner on the ends; a flow without Ends records results
//     in its worker and has no runner) with the deliveries of each;
//     ConsumeAll runs them.
//   - how it resolves VMs (Flow.Resolve, usually Resolve with a filter):
//     the Planner admits a fire of a job of the flow's mode, resolves its
//     VMs, records the run and announces run.started and the first
//     requests.
//   - what a work item is (Flow.Request): the event requesting one VM's
//     work, built again for each VM a VM's end releases.
//   - how a result is reported (Flow.Result reads a VM's end for the
//     Runner; Flow.Failed reports a VM its worker could not do).
//
// verify is not run-shaped: one fire is one handler call that walks the
// job's remotes, with no per-VM work request and no job lock, so it
// declares no Flow.
//
// The function's folder keeps its declaration and its worker (the work
// itself, its attempts spaced by Retry and Sleep); it imports no consumer constant and never decides when to give
// up: a delivery knows whether it is the last (bus.Delivery.Last) and the
// skeleton decides what then happens.
//
// Giving up. No run waits for ever. A planner that keeps failing gives the
// fire up on its PlanAttempts-th try since it took the job's lock, or on
// its last delivery (GivesUp): the deliveries a queued fire spent waiting
// are no tries, since the lock records the delivery that took it. A run
// not started yet is recorded failed and its run.completed is published
// while the fire goes to the DLQ (GiveUp); a run an earlier delivery
// started is announced again, never ended by a redelivery's error, unless
// its events cannot be built (then it is aborted). A worker whose work
// fails on its request's last delivery reports the VM through the flow's Failed
// (Flow.Worker; GivesUpRun decides): export and replicate publish their
// VM-failed event, so the run goes on without that VM. A handler that
// cannot record a VM's end on its last delivery (the Runner, snapshot's
// worker) aborts the run (GiveUpRun, Abort): its run.completed — or, when
// the recorded run cannot make a valid one, a run.completed with the status
// and reason alone — is published while the event goes to the DLQ. A
// run whose job was renamed or removed while it ran is aborted by the
// next VM's end ("job <name> is no longer configured").
//
// Bucket layout (keys are KV-safe encodings of the names):
//
//	lock.<job>                   {run_id, job, schedule, acquired, renewed, delivery,
//	                             took_over: the stale lock it replaced}
//	run.<run-id>                 the header: the Run without its VMs, the plan's key,
//	                             counters (requested, initial, finished, succeeded,
//	                             failed), pending ends, ended_by, the lock as the run
//	                             took it; a run that ended as it started (or was
//	                             recorded by an earlier xbr) has its VMs inline instead
//	run.<run-id>.plan.<nonce>    the VMs in order, written once before the header (a
//	                             fire planned twice at once writes two; the header names
//	                             the one that counts)
//	run.<run-id>.vm.<index>      one VM's attempts, result and ordinal
//
// A plan is one KV value: at about 150 bytes per VM, the server's maximum
// payload (1 MiB by default) bounds a run to some 6,000 VMs.
package runs
