// Package integrity re-reads backups on a remote and checks that they are
// sound, as Proxmox Backup Server's verify jobs do:
//
//   - the .json (the commit marker) parses and describes the backup;
//   - the .xva has the size the metadata records (a truncated or
//     overwritten file is caught before it is read);
//   - the bytes hash to the SHA-256 in the metadata's xbr object (backups
//     Xen Orchestra wrote have none: their size alone is checked, and
//     Result.SHA256 is what was computed);
//   - with Deep, the XVA is also parsed while it streams (shared/xva): every
//     chunk's XXH64/SHA-1 is checked against its checksum entry and every
//     disk of ova.xml must be complete, so a corrupt chunk is found even
//     when the file's SHA-256 was recomputed after the damage.
//
// Restore points of a remote's incremental repository are verified with
// repo.Verify (Points, RemotePoints, RepoPoint): every chunk a point uses
// exists and, with Deep, hashes to its id. Each point is one Result; a
// missing or damaged chunk fails every point that uses it, and each failure
// names the chunk, where the point uses it and the other points using it. A
// damaged manifest fails its point alone; the other points are checked. A
// read that fails (the remote, not the data) is an error, never a failed
// point: the check did not complete.
//
// Verification streams: memory stays at one XVA chunk whatever the backup's
// size. Results become xbr.verify.completed or xbr.verify.failed events
// (Result.Payload).
package integrity
