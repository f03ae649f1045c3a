// Package prune is the function that enforces retention and sweeps what
// crashes leave behind.
//
//   - After xbr.export.completed, for each remote the backup went to, it
//     keeps the schedule's depth (retention) newest backups of that VM, job
//     and schedule on that remote — the new backup counts — plus the
//     representatives of the long-term buckets (shared/retention), and
//     deletes the others: the .json first, so a backup stops being listed
//     at once, then the .xva and .xva.checksum (catalog.Delete). Backups of
//     the same VM written by another job or schedule, or by Xen Orchestra
//     under other ids, are never candidates. It publishes
//     xbr.prune.completed per remote, listing what was deleted and the
//     retention's reasons, or xbr.prune.failed.
//   - After xbr.snapshot.completed, it keeps the schedule's
//     snapshot_retention newest rolling snapshots of that VM, job and
//     schedule, identified as Xen Orchestra identifies them (the
//     xo:backup:* other_config keys of the snapshot VMs and of the snapshot
//     VDIs of the VM's disks), and destroys the others with their disks.
//   - After xbr.incremental.completed , for
//     each remote the restore point went to, it keeps the schedule's
//     retention newest restore points of that VM in the remote's incremental
//     repository (xbr-repo/) plus the long-term buckets, as for full backups,
//     and deletes the others' manifests (repo.Delete), oldest first. Its
//     xbr.prune.completed lists what was deleted. The garbage of the
//     repository is collected once per run, not per VM (a GC reads every
//     manifest of the repository): see xbr.run.completed below.
//     The scope is the points of the VM on that remote whose records carry
//     the run's job and schedule ids (xva.DecodeRepoScope), and those that
//     carry none (written before points recorded them) or whose manifest
//     is damaged (it cannot be restored, and GC stops on it); a point whose
//     records name no readable scope is left alone, and a manifest that
//     cannot be read through fails the prune. The restore point just
//     written must be listed, or nothing is deleted.
//   - On a fire of a gc job (mode: gc; its consumer reads
//     xbr.schedule.due.gc.> besides the events above) it collects the
//     repository of each of the job's remotes and returns one
//     xbr.gc.completed or xbr.gc.failed per remote, then xbr.run.completed,
//     as functions/verify runs a verify job. GC keeps no state and is safe
//     beside running backups (shared/repo, "GC and backups"), so a
//     redelivered fire just collects again.
//   - After xbr.run.completed of an incremental or mirror job, it collects
//     (repo.GC) the repository on each of the job's remotes (a mirror's
//     targets) from which points were deleted since the last GC
//     (repo.GCDue), and reports each GC as xbr.gc.completed or
//     xbr.gc.failed with the run's ids. A VM's prune handled after its run's
//     end collects its own deletions (the events are handled concurrently).
//     Then, for every job but verify jobs, it measures the job's remotes
//     (xbr.remote.usage).
//   - Nothing is pruned after a failure: a failed export or snapshot
//     publishes no completed event, and the prune function consumes only
//     completed events. The decision depends only on what is listed, so a
//     prune that was missed (a crash between export and prune) is made up by
//     the next completed export of the same scope, and a redelivered event
//     decides exactly as the first delivery.
//   - The sweep, periodically and when a run starts, removes temp files,
//     data files without a .json and claims of backup times (catalog.Claim,
//     left by a crashed export) older than a threshold from every remote
//     (from the run's remotes when a run starts), and snapshots still named
//     xo-backup-temp-snapshot-name older than a threshold from every pool.
//     It reads the data files one VM folder at a time, from the folder's top
//     only: XO's delta backups below hold a file per disk block.
//     Each removal is an xbr.prune.completed whose reason starts with
//     "sweep:" and whose job and schedule are "_sweep" (a name no
//     configured job can have).
//   - On a remote shared with Xen Orchestra: deletions in a VM folder happen
//     under XO's lock on that folder (catalog.LockVM), and leave XO's
//     cache.json.gz telling the truth (catalog.RefreshCache). Each deletion
//     and the cache's write come right after a check of the lock: one lost
//     meanwhile (xbr's refresh came late and XO took it over) leaves the
//     folder to XO, whose backup and cleanVm run there; prune changes nothing
//     more in it, reports the loss and goes on elsewhere. A job and a
//     schedule are their ids (config.Job.ID, config.Schedule.ID); backups and
//     rolling snapshots an older xbr stamped with the names still count.
package prune
