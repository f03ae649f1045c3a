// Package remote defines the backup repository that every export writes to and every restore
// reads from: a flat namespace of slash-separated keys holding streamed objects.
//
// A Remote is writer-style so that one export stream can be fanned out to several remotes at
// once: Create returns an Upload (an io.Writer) and nothing is visible under the key until
// Commit succeeds. Implementations live in subpackages: dir (a local disk or an NFS mount) and
// s3 (any S3-compatible service). Every implementation passes the conformance suite in
// remote/remotetest.
//
// Semantics shared by all implementations:
//   - Keys are validated by ValidateKey; an invalid key fails with ErrInvalidKey. A valid key
//     never leaves the remote: no "..", ".", empty segment, leading "/" or control character.
//     Each implementation also keeps what the storage holds from leading out: dir follows no
//     symbolic link, s3 names only objects under its prefix.
//   - Commit replaces an existing object atomically: a reader sees the old or the new object,
//     never a mix and never a partial object.
//   - Abort, or a failed Commit, leaves nothing under the key. Abort after a successful Commit
//     does nothing, so `defer u.Abort(ctx)` is the normal pattern.
//   - Open and Stat of a missing key fail with an error wrapping ErrNotFound.
//   - Delete is idempotent: deleting a missing key succeeds, so a retried prune never fails on
//     what an earlier attempt already removed.
//   - A full disk or quota surfaces as an error wrapping ErrNoSpace that names remote and key.
//   - Leftovers of crashed writers (temp files, pending multipart uploads) are listed by
//     Sweeper.ListTemp and removed by Sweep once older than a threshold.
//   - List holds every object under a prefix at once; Walker hands them over one at a time,
//     and FolderLister (ListFolder) lists one level of a folder without reading below it.
package remote
