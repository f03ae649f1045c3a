// Package restore is the function that turns a backup back into a VM. On
// xbr.restore.requested (backup id, target pool, SR, optional name, start) it
// streams the backup's .xva from its remote into PUT /import of the target
// pool, as stored: XAPI detects gzip and zstd by magic, so the compressed
// file and its known size go over the wire unchanged. Decompressing in xbr
// instead was measured equal on one host (a 512 MiB-disk gzip backup imported
// in 0.46-0.48 s either way: the same decompression runs in one process or
// the other) and sends 2-3x the bytes over a real network, with an unknown
// length; so xbr sends the file as stored.
//
// # Verification
//
// The stream is verified while it flows, and the last DefaultHoldBack bytes
// are withheld until the whole file has been read and checked, so XAPI never
// receives a complete archive of a bad backup: on a mismatch the import is
// aborted (the connection reset), XAPI discards it, and xapi.Client.Import
// destroys any VM it created anyway. What is checked:
//
//   - xbr's backups: the length and the SHA-256 recorded in the .json's xbr
//     object;
//   - Xen Orchestra's backups with a <ts>.xva.checksum file: the length and
//     XO's MD5;
//   - XO's backups without one: the length, and XAPI itself checks every 1 MiB
//     chunk against its xxhash/SHA-1 entry (and the gzip CRC or zstd checksum
//     of a compressed file) and fails the import, leaving no VM, on a
//     mismatch.
//
// # Restore points of the incremental repository
//
// A backup id "<remote>:xbr-repo/<vm>/<ts>" names a restore point of the
// remote's repository (Options.Repos). Its XVA is built on the fly
// (shared/repoimage: ova.xml from the manifest's records, then every disk
// read from its chunks) and streamed into PUT /import of unknown length, the
// same way: every chunk is checked against its id and each disk against its
// SHA-256 before the archive can end, and the verifier withholds the last
// DefaultHoldBack bytes until the builder has finished, so a missing or
// damaged chunk aborts the import and leaves no VM. Such a failure is final;
// an unreachable repository is retried. The VM is named "<source name>
// (<point time>)": the name the point's records give the VM, else (a point
// written before they did) ova.xml's VM record's.
//
// # The restored VM
//
// It is named "<source name> (<backup time>)" as Xen Orchestra does (or the
// requested name), tagged "restored from backup", described "Restored on
// <time> from <remote> backup <id>", cleared of the backup other_config keys
// (xo:backup:*) and of the template flag an exported snapshot carries, and
// started when asked. Two VMs of one name are never made: when another VM
// of the pool has the name, the VM is named "<name> (2)" (the next free
// number). Front ends learn it before publishing from the restore.accept
// query this function answers (restoreclient.Accept, which also checks the
// backup, remote, pool and SR exist); the name is checked again when the VM
// is named, for requests published without asking and for races. Within
// one process the restores into a pool pick, set and check their names one
// at a time; after the rename the pool is asked again, and a VM whose name
// another VM took meanwhile (a user's, a finished restore's, or an
// unfinished restore's whose uuid sorts first) is named again. What remains
// across processes: restore A lists the names, restore B (another process)
// renames, checks and passes, then A renames to the same name and its check
// finds B's VM not yet finished and with a greater uuid; both keep it. The
// window is A's list-to-rename (two calls) overlapping B's rename-to-finish.
//
// # Events and idempotence
//
// It publishes xbr.restore.started and xbr.restore.progress (bytes, rate,
// ETA) every 400 ms (events.DefaultProgressEvery) while it runs, and returns xbr.restore.completed
// (new VM uuid and name, bytes, duration, throughput) or xbr.restore.failed
// (the reason). The request id is written into the new VM's other_config
// (KeyRequest) as soon as the import returns, before any other call to the
// pool; a redelivered request finds that VM and only re-applies the
// finishing steps, so it never makes two VMs. It looks for that VM before
// it reads the backup: a VM already finished is reported completed again
// (bytes 0: the redelivery moved none) even when the backup was removed
// meanwhile or its remote is out of reach. A VM that cannot be marked is
// destroyed at once, so the redelivery imports again and a restore that
// fails there leaves no VM. When a request fails for good, a marked VM that
// was not finished (named, tagged, its backup keys removed) is removed with
// its disks; a finished one that only failed to start is kept, and the
// reason names it. The window left is the moment between XAPI
// completing the import and that mark: a crash exactly there (or a pool that
// refuses both the mark and the removal) leaves an unmarked VM a redelivery
// would import again.
//
// A backup whose read from its remote sends nothing for the pool's stall
// timeout (xapi.Client.StallTimeout, the pool's stall_timeout, as bounds
// the pool's side) fails with ErrReadStalled, for good as a stalled pool
// does, and the import is aborted, leaving no VM. A read that ignores
// cancellation (a hung NFS mount) is abandoned to a goroutine that ends
// when it returns: neither the restore nor a shutdown waits for it. The
// reads before the transfer (the backup's metadata, its size, XO's
// checksum file) are bounded the same way (boundedRead). A
// restore point is bounded the same way: the XVA built from its chunks is
// read through the same read-ahead, and the reads before the import (the
// repository's config, the point's manifest) under the same watch
// (boundedRead), so any of them silent that long fails the restore alike;
// the XVA builder is never waited for.
//
// A backup id that could leave its remote is rejected (a failed event, and
// the request goes to the DLQ as a permanent error). Unreachable remotes or
// pools are retried (Options.Attempts deliveries) before the restore fails.
package restore
