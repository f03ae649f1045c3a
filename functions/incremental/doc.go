// Package incremental is xbr's incremental-forever backup function (jobs of
// mode incremental). It declares itself into the run skeleton of
// shared/runs as export does (plan.go), which gives it a planner on
// <prefix>.schedule.due.incremental.>, a worker on
// xbr.incremental.requested and a runner on xbr.incremental.completed|failed.
//
// Per VM and attempt, the worker:
//
//  1. with cbt: enable, turns changed-block tracking on for every disk
//     (VDI.enable_cbt; a failure is logged and that disk is read whole);
//  2. snapshots the VM, labelled as export labels it (xo:backup:* keys,
//     readable name) plus KeyIncJob and KeyIncVM on the snapshot and its
//     disks, and builds the ova.xml of the snapshot from per-object
//     get_record calls (xva.BuildHeader);
//  3. chooses each disk's path. cbt when the VM's newest restore point in
//     the remote's repository names a base snapshot VDI read from the same
//     live VDI and userdevice, the new snapshot VDI is tracked, the size is
//     unchanged, the base still exists (cbt_metadata),
//     VDI.list_changed_blocks(base, new) answers and VDI.get_nbd_info gives
//     an endpoint: only the chunks holding a changed 64 KiB block are read,
//     over verified-TLS NBD (a few connections, two chunks per connection
//     in flight) and put at their offsets with the base point's disk as
//     repo.DiskSpec.Base. Otherwise full-scan (/export_raw_vdi?format=vhd:
//     only the allocated 2 MiB blocks come from the host, expanded with
//     zeros into DiskWriter.Fill; format=raw when the disk is above the VHD
//     maximum or the VHD export is refused before any body) with the first reason that failed, checked in this
//     order: first-run (cbt-reset when the point read another live VDI at
//     that userdevice: a storage migration makes a new VDI), cbt-disabled,
//     disk-resized, base-gone, cbt-reset, cbt-error, no-nbd;
//  4. commits the point; its records are xva.RepoRecords: ova.xml and, per
//     disk, the snapshot VDI (the next base), the live VDI, the userdevice
//     and the path taken;
//  5. after the commit only: VM.destroy on the snapshot record (not its
//     disks), VDI.data_destroy on each tracked snapshot disk (only CBT
//     metadata stays on the SR), VDI.destroy on an untracked one, then the
//     job's older bases of the VM (found through the live disks' snapshots
//     and the keys, never by listing the pool). Before the commit a failure
//     destroys the new snapshot with its disks; the previous base stays.
//
// Design decisions:
//
//   - Never silently wrong: a bitmap that does not cover the disk, an
//     unknown answer of list_changed_blocks, a base that is neither
//     cbt_metadata nor a tracked snapshot all mean a full scan, with the
//     reason in the event, the records and the log. data_destroy happens
//     only on a disk whose snapshot is tracked and only after the commit,
//     so a fallback never purges the base the next run needs (Xen
//     Orchestra's reported problems, reference cbt-and-nbd.md §4).
//   - Bases are per job and VM: a VM in two incremental jobs keeps one base
//     chain per job; a job only removes VDIs carrying its own keys.
//   - A changed chunk at most half changed whose base chunk the repository
//     holds is patched: the base chunk, read and checked against its id,
//     with only the changed 64 KiB blocks read over NBD laid over it; any
//     other changed chunk, or one whose base chunk is missing or damaged
//     (a warning), is read whole over NBD. Never a wrong chunk: a patched
//     chunk is the base content the CBT bitmap is relative to.
//   - bytes_read counts what came from the host (NBD reads or the raw
//     export); rate_limit caps it per run and process, as export's does;
//     dedup_ratio is the bytes of the chunks written (changed chunks, or
//     every chunk on a full scan) per new byte stored.
//   - Retries, vm_timeout, concurrency, overlap and the side-channel
//     started/progress events are export's: its worker loop, one attempt
//     time recorded in the run before writing, derived event ids. A
//     redelivered request whose point is committed reports it again.
//   - Leftovers: an attempt starts by destroying the VM's snapshots that
//     carry this job's key (a job runs once at a time, so they are an
//     interrupted attempt's) — except one whose disks the newest point names
//     (stopped between its commit and its cleanup), which is retired so its
//     disks stay the base — and the cleanup after each commit removes the
//     job's unattached bases of the VM other than the new ones. Bases of a
//     VM or job that no longer exists are not found by this function.
package incremental
