// Package history is the run history of xbr: a projection built only from
// events, so it can be rebuilt from scratch at any time by replaying the
// XBR_EVENTS stream (and XBR_PROGRESS for transfer rates).
//
// Each run is shown as Xen Orchestra shows a backup run's log, a task tree:
//
//	backup run                      (one per xbr.schedule.due / run.started)
//	└─ backup VM                    (one per VM of the run)
//	   ├─ snapshot                  (the export's snapshot, or a rolling snapshot)
//	   ├─ export
//	   │  └─ transfer <remote>      (one per remote of the job)
//	   ├─ prune <remote|snapshots>  (what retention deleted)
//	   └─ verify <remote>           (scheduled verification jobs)
//
// Restores are root tasks of their own ("restore"), as in Xen Orchestra.
// Every task has a status (success, failure, partial, skipped, interrupted,
// pending), a start, an end and a duration, a size and a throughput where
// they apply, and the error text of a failure.
//
// # Interrupted runs
//
// A run is interrupted when it ended without finishing its work. Two rules
// find it, both from events alone:
//
//   - its xbr.run.completed says so (shared/runs ends a run whose lock went
//     stale with status interrupted when the job fires again);
//   - it has no xbr.run.completed and no event of any kind about it —
//     lifecycle or progress — for longer than Options.StaleAfter (30 minutes,
//     shared/runs' DefaultStaleAfter) before the projection's clock. Export
//     workers publish progress several times a second while they stream, so a live
//     run never goes quiet that long; a run whose process died does.
//
// The second rule is evaluated when Runs is called (the "time of replay"),
// never stored, so a run that resumes after a long pause is pending again.
// Tasks still pending in a finished run become interrupted as well.
//
// Apply is pure: it reads the event (payload and CloudEvents time, never the
// wall clock), ignores an event id it already applied, and does not depend on
// the order of the lifecycle and progress streams relative to each other.
package history
