// Package protection answers the operator's first question of the day: is
// every VM protected, and which are late? Compute is a pure function of the
// pools' VMs (xapi records, as the pool VM cache holds them), the
// configuration (which jobs select which VM) and the run history (the
// history projection's runs), evaluated at now.
//
// Per VM it gives one state, worst first:
//
//   - missing: a job names the VM by UUID and no pool of the job has it;
//   - failing: the last attempt of a job that selects it failed (or was
//     interrupted) after its last success;
//   - late: a job that selects it has no success within its RPO;
//   - unprotected: no backup, snapshot or replicate job selects it;
//   - new: an xbr restore created it (its other_config names the restore
//     request, and the restore is in the history) and a job that selects
//     it has not copied it yet, within the job's RPO since the restore
//     ended (past it, late);
//   - ok: every job that selects it succeeded within its RPO;
//   - excluded: tagged xo:no-bak (templates, snapshots, control domains and
//     replicate jobs' standby copies, start-blocked, and health checks'
//     test VMs, tagged xbr:healthcheck, are not VMs to protect
//     and are not listed; a copy failed over is).
//
// # RPO
//
// A job's RPO is its rpo: field, or else the longest gap between two fires
// of its enabled schedules over the last DefaultWindow plus a grace of a
// quarter of that gap, at least a minute and at most DefaultGrace: a daily
// job is late after 26 hours, an hourly one after 75 minutes. A job with no
// enabled schedule has no RPO: it is late only until its first success.
//
// # Kinds of copy
//
// full and incremental jobs make backups (on their remotes), snapshot jobs
// rolling snapshots (on the VM's pool), replicate jobs replicas (on the
// target pool). verify, gc, mirror and metadata jobs protect no VM on their
// own and are not counted.
//
// The history projection keeps its newest runs, and of the runs it drops
// each VM's newest result per job and status (history.Projection.Outcomes)
// and each restored VM's newest restore (history.Projection.Restores): the
// caller passes all three, so a copy older than every run kept still
// counts, and a VM restored before them is still new within the RPO.
package protection
