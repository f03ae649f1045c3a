// Package dir is a remote.Remote on a directory: a local disk or an NFS mount.
//
// An upload goes to a temp file in the object's own folder (remote.TempName: ".<name>.<random>.tmp",
// never listed), which Commit fsyncs, renames to the final name and follows with an fsync of the
// folder, so a final name never holds a half-written file, even after a crash. New folders are
// created as needed and made durable the same way. ENOSPC and EDQUOT surface as errors wrapping
// remote.ErrNoSpace that name the remote and the key.
//
// The root must exist: a remote is never created in place of a missing mount.
// A key that is a prefix folder of another key ("a" and "a/b") cannot exist on a directory,
// unlike S3; backup layouts never need that.
package dir
