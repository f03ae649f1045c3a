// Package mirror is the function that runs mirror jobs (mode: mirror): it
// copies the restore points of the incremental repository on a job's source
// remote to the repositories on the job's remotes (the targets), each of
// which keeps its own retention — a local NFS repository copied off-site to
// S3, say.
//
// It is run-shaped (shared/runs): its planner reads the fires of mirror jobs
// (<prefix>.schedule.due.mirror.>) and makes one xbr.mirror.requested per
// VM that has restore points in the source repository (the run's VMs carry
// the source remote where other runs name a pool); its worker mirrors one
// VM to every target and returns xbr.mirror.completed or xbr.mirror.failed;
// its runner ends the run with xbr.run.completed.
//
// Design decisions:
//   - What a target holds is decided by the schedule's retention (depth and
//     long-term buckets, shared/retention) over the VM's points on the
//     source and on the target together: the kept points the target lacks
//     are copied, oldest first, then the target's points outside the
//     retention are deleted. The target's repository is collected (GC) once
//     the run has ended, by the prune function, not after each VM: a GC
//     reads every manifest of the repository.
//     Nothing is deleted on a target unless every kept point is there, so a
//     newer point always stands above what a mirror deletes.
//   - A point is copied as stored (repo.CopyPoint): chunks the target lacks
//     first, each checked against its id, the manifest last, under a lease
//     on the target that keeps its GC away. The target is asked only about
//     the chunks that differ from its nearest point of the VM (copying
//     oldest first, the previous one), not about every chunk. So the source and target
//     repositories must cut, name and encrypt chunks alike: a target the
//     mirror creates is made as the source's mirror (fn.Repos.EnsureMirror);
//     an existing target that differs (another chunk size, another salt or
//     key) is refused with what differs (config check refuses a different
//     chunk_size or encryption_key_file first). Re-chunking is not done.
//   - A run keeps its lock fresh while it copies (runs.Hold). A run whose
//     lock was taken over meanwhile (it went stale: the host suspended, a
//     long stall, NATS out of reach) stops at its next renewal: the copy
//     under way is abandoned, no later point is copied, nothing is deleted
//     on the target (the lock is renewed once more just before deleting),
//     and the VM's mirror.failed says why.
//   - Crash safety and idempotence: a mirror killed half-way leaves chunks
//     no manifest names (the target's GC removes them unless the next mirror
//     re-uses them) and never a half-written point; the next run copies what
//     is missing. Event ids derive from the run and the VM.
package mirror
