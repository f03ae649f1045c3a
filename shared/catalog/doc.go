// Package catalog is the on-remote catalog of full VM backups, in Xen Orchestra's layout, so
// XO can read xbr's backups and xbr can list and restore XO's:
//
//	xo-vm-backups/<vm-uuid>/<YYYYMMDDTHHMMSSZ>.xva            the XVA (gzip, zstd or plain)
//	xo-vm-backups/<vm-uuid>/<YYYYMMDDTHHMMSSZ>.xva.checksum   optional, as XO writes it
//	xo-vm-backups/<vm-uuid>/<YYYYMMDDTHHMMSSZ>.json           the metadata, written LAST
//
// The timestamp is the backup's start in UTC to the second ("20231012T101112Z"), the
// file-name form of the metadata's millisecond "timestamp".
//
// # Metadata
//
// Metadata holds XO's fields exactly (jobId, mode, scheduleId, timestamp, version, vm,
// vmSnapshot, xva, size, tags) plus an optional "xbr" object that XO ignores. The XAPI
// records vm and vmSnapshot are kept as raw JSON so they round-trip untouched. A .json that
// Xen Orchestra wrote (no "xbr" object) parses; its codec is then unknown until the data is
// sniffed.
//
// # Backup ids
//
// A backup id names the remote, the VM and the timestamp:
//
//	<remote>:<vm-uuid>/<timestamp>      e.g. nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231012T101112Z
//
// It reads like "remote:path" (scp, rclone) and its part after the colon is the backup's
// folder and base name on the remote. ParseID is strict, because ids come from webhooks, chat
// commands and the command line and are turned into remote keys: the remote name is 1-64
// bytes of letters, digits, '-', '_' and '.', starting with a letter or digit, with no "..";
// the VM uuid is canonical lowercase 8-4-4-4-12 hex; the timestamp is exactly
// YYYYMMDDTHHMMSSZ and a real UTC instant. Anything else — "..", a leading '/', an extra or
// missing '/', '%' escapes, a backslash, NUL, control bytes or any non-ASCII byte — is
// rejected with an error naming the part and quoting the value. A parsed id prints back to
// exactly the string it came from, and its keys always stay under xo-vm-backups/.
//
// A restore point of the remote's incremental repository (shared/repo) has the same parts
// after "xbr-repo/", its folder there, and ID.Repo set:
//
//	<remote>:xbr-repo/<vm-uuid>/<timestamp>
//
// Such an id names no file of XO's tree: RepoPoint gives the point's name in the repository,
// and MetaKey, DataKey and ChecksumKey panic rather than name the full backup of the same
// second.
//
// # A backup's life on a remote
//
// Before the data, a writer claims the backup's timestamp (Claim: an object under the hidden
// ClaimsFolder, created only where none exists), since S3 has no VM-folder lock to keep two
// writers of one VM in the same second off the same keys; it releases it (ReleaseClaim)
// once the backup is committed or removed. The catalog owns every step after the data: Commit writes the .xva.checksum ("$5$$" and
// the SHA-256 of the stored bytes, in XO's format, whose "$1$$" MD5 it also reads;
// ReadChecksum reads it back for restore) and then the .json, in XO's order, once the writer (export) has committed the .xva. Delete
// removes a backup .json first, so that an interrupted delete never leaves a listed backup
// without its data, and goes on past a failing data or checksum file (a retry finishes
// it). Both run under the VM folder's lock where the remote has one (LockVM) and are
// followed by RefreshCache. Backup is the one listed form (what `xbr backups ls`, the
// backups query, restore and prune use); BackupOf gives it for one .json read with
// ReadMetadata.
//
// # Listing
//
// List reads every .json directly in the VM folders under xo-vm-backups/ (or in one VM's
// folder). It lists each folder's top only (VMFolders, FolderFiles: one directory read, an
// S3 delimiter listing), never XO's delta backups below, whose VHD-directory disks hold a
// file per 2 MiB block. The .json is the commit marker: a data file without one is an unfinished or half-deleted backup and is not listed.
// A .json that cannot be read or parsed is reported as a Problem and the listing goes on, so
// one damaged file never hides the other backups. Backups come newest first.
//
// Kinds xbr does not handle yet are Problems too, named for what they are (Unsupported):
// an XO delta backup ("XO delta backup: not restorable by xbr yet") and every backup of an
// encrypted XO remote ("encrypted XO remote", told by the plaintext encryption.json at the
// remote's root; the files are not read). CheckWritable refuses such a remote to a writer.
//
// # XO's listing cache
//
// Xen Orchestra lists a VM folder from its cache.json.gz and trusts it over the folder.
// RefreshCache keeps an existing cache telling the truth after xbr changes the folder (it
// updates it in place and never creates one; see docs/xo-shared-remote.md), and List reads a
// fresh cache (newer than every .json and naming exactly them) instead of every .json.
package catalog
