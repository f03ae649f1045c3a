// Package failovers is what every failover front end shares: the CLI
// (`xbr dr failover`), the gateway (web page, webhook, chat command) and the
// replicate function that carries failovers out.
//
//   - Requests: Params → NewRequest checks the VM and the copy selector and
//     derives the request id, so the same idempotency key always yields the
//     same id; Publish puts the xbr.failover.requested event on the backbone
//     (JetStream's duplicate window drops a repeat).
//   - Status: a failover's state (pending, completed, failed) is a projection
//     of its failover.* events: Status.Apply folds one event in, Lookup reads
//     the current status from the stream, Follow calls back on every change
//     until the failover ends. No server keeps failover state: the events
//     are the truth, and the request and outcome types are the contract's
//     (events.FailoverRequested, FailoverCompleted, FailoverFailed).
//   - ParseCopy reads which copy ("latest" or a recovery point), the one
//     reading every front end and the replicate function share.
package failovers
