// Package dir is a remote.Remote on a directory: a local disk or an NFS mount.
//
// An upload goes to a temp file under the hidden folder remote.TempFolder at the root, on the
// key's own path (".xbr-tmp/<folder>/.<name>.<random>.tmp", never listed), which Commit
// fsyncs, renames to the final name (one rename on the same file system) and follows with an
// fsync of the folder, so a final name never holds a half-written file, even after a crash.
// Temp files never live in the object's folder, because Xen Orchestra's cleanVm deletes
// every unclaimed file in a VM folder; ListTemp still finds those an older xbr left there.
//
// A Batch (remote.Batcher) writes many small objects, a repository's chunks: it keeps each
// folder and temp folder open after locating it once, writes each object to a temp file
// that is fsynced before it is renamed, and replaces the per-object folder fsync by one fsync
// per touched folder at Barrier, which its caller runs before writing the commit marker that
// names them. On Linux the temp files wait, up to 128 at a time, for one syncfs before their
// fsyncs and renames (a flush, which Barrier also makes), so the costly fsync of each file
// becomes a cheap one; until then only the batch's own Stat finds them.
//
// Lock takes a folder's lock the way Xen Orchestra does (proper-lockfile: mkdir of
// "<folder>.lock" beside it, mtime refreshed every 5 s, stale after 10 s), so xbr and XO
// never write or clean the same VM folder at once. A refresh more than 10 s late (a stalled
// NFS server) lets XO take the lock over; the holder finds that at its next refresh or
// Check (the lock's mtime is not the one it set), closes Lost and never touches XO's lock
// (remote.Held). New folders are
// created as needed and made durable the same way. ENOSPC and EDQUOT surface as errors wrapping
// remote.ErrNoSpace that name the remote and the key.
//
// The root must exist: a remote is never created in place of a missing mount.
// A key that is a prefix folder of another key ("a" and "a/b") cannot exist on a directory,
// unlike S3; backup layouts never need that.
//
// No way out: every file access (list, read, write, rename, delete, sweep) goes through an
// os.Root opened on the remote's directory, and walks the key's folders one at a time, each
// opened as an os.Root of its own, so a name never resolves outside the directory, whatever
// the share holds. A symbolic link is never followed, even one that stays inside: List leaves
// links out (it never did follow them), and Open, Stat, Create and Delete of a key whose path
// holds one fail with an error wrapping remote.ErrNotFound that names the link and says
// whether it escapes the remote. So what `backups ls` shows is exactly what restore, verify
// and prune can use, and an object's type is checked before it is opened (a FIFO or a device
// planted under a key is not opened). The remote's directory itself may be a link (the
// operator's choice); it is opened anew for each operation, so a mount made or remade after
// New is used.
package dir
