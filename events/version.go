package events

// ContractVersion is the version of the event contract (semver), as
// README.md states it:
//
//   - patch: wording, documentation, stricter checks of what producers
//     already did;
//   - minor: an added type, an added payload field (consumers ignore the
//     fields they do not know), an added subject key after the existing ones;
//   - major: a change a consumer has to follow: a subject that moves (its
//     filters change), a type whose meaning changes, a field renamed,
//     retyped or given a new meaning. README.md then carries a migration
//     note for audit consumers: old subject and type, new subject and type.
//
// 2.0.0 put the job's mode in the subject of xbr.schedule.due
// (<prefix>.schedule.due.<mode>.<job>.<schedule>), made
// xbr.replicate.requested replicate's work item and gave
// xbr.replicate.started the meaning xbr.export.started has (an attempt
// began).
//
// 2.1.0 added the xbr.incremental.* types and the incremental mode of
// xbr.run.started. 2.2.0 added xbr.prune.completed's optional gc (the
// garbage collection of an incremental repository after restore points
// were deleted), xbr.gc.completed|failed (a job of mode gc, run by the
// prune function), xbr.mirror.requested|completed|failed (mode mirror) and
// the modes mirror and gc of
// xbr.run.started.
//
// 2.3.0 added xbr.metadata.completed|failed (a job of mode metadata backs
// up pool databases, one event per pool per remote) and the mode metadata
// of xbr.run.started.
//
// 2.4.0 added xbr.healthcheck.requested|started|completed|failed (the
// health check: a backup booted as a test VM).
//
// 2.5.0 added xbr.remote.usage (the bytes xbr holds on a remote, and its
// free space where known, after each run that wrote to it).
//
// 2.6.0 added xbr.incremental.completed's optional chunks_patched and
// base_chunks_unreadable (a changed chunk built from its base chunk and
// the changed blocks; a base chunk that could not be read back), and
// worded dedup_ratio as the bytes of the chunks written per byte stored:
// the same number as before for every run that read whole chunks.
//
// 2.7.0 publishes xbr.gc.completed|failed also at the end of an
// incremental or mirror run that deleted restore points (the repository is
// collected once per run; prune.completed's and a mirror target's gc are
// no longer set), and adds the protection state "new" (a VM an xbr restore
// created, not copied yet, within its jobs' RPO).
const ContractVersion = "2.7.0"
