// Package repo is the content-addressed chunk repository behind incremental backups: every
// chunk of every disk is stored once across all VMs and restore points, and every restore
// point is a full, independently deletable image. It is pure mechanism on top of
// remote.Remote (dir or S3): no XAPI, no NATS.
//
// # Layout
//
// Beside Xen Orchestra's tree on the same remote, never inside it:
//
//	xbr-repo/config.json                         Config: format, chunk size, id hash, encryption
//	                                             parameters (salt, key check value), never a key
//	xbr-repo/chunks/<2 hex>/<64 hex>             a chunk: zstd, then nonce‖XChaCha20-Poly1305 when encrypted
//	xbr-repo/vms/<vm uuid>/<YYYYMMDDTHHMMSSZ>.json  a restore point's manifest, written last
//	xbr-repo/sessions/<vm uuid>_<time>_<random>.json  the lease of a running backup
//	xbr-repo/sessions/<random>.json              the lease of a running mirror copy
//	xbr-repo/gc/sweeping/<random>.json           the marker of a GC that is deleting chunks
//	xbr-repo/gc/due/<time>_<random>.json         one per deletion of points no GC has swept after
//
// # Chunks and manifests
//
// A disk is cut into chunks of the repository's chunk size (1 MiB by default, a multiple of
// XAPI's 64 KiB changed-block size), aligned to the disk; the last one may be short. A
// chunk's id is the SHA-256 of its content, or HMAC-SHA-256 under a key derived from the
// repository key when the repository is encrypted, so equal content in two repositories
// gives unrelated ids. Zero chunks are marked "zero" in the manifest and never stored. A
// chunk already stored is not written again; a chunk is written whole or not at all, through
// the point's remote.Batch (NewBatch: the dir remote's keeps the shard folders open and
// defers each rename's folder fsync; on S3 it is Create/Commit).
//
// The durability barrier: every chunk a manifest names is durable before the manifest is.
// Commit calls the batch's Barrier, which makes durable the names of every chunk the point
// stored and of every chunk it found already stored (another writer's batch may not have
// synced it yet), and writes the manifest only when Barrier returned nil; chunks taken from
// a base were durable before the base's manifest. A failed Barrier fails Commit and leaves
// no manifest. A SIGKILL or a crash of the host before the barrier loses only chunks no
// manifest names yet (on a directory remote, up to 128 of them still temp files, which GC
// sweeps).
//
// A manifest is JSON: the header (format, version 2, vm_uuid, time, the VM's records as the
// caller gives them, and per disk its name, size, chunk size, chunk count, zero chunk count,
// image_digest, and sha256, a flat SHA-256 of the image that writers no longer record and
// readers check when a manifest has it) followed by
// "chunk_ids", one list per disk, last. An entry is "zero", the chunk id (plain), or
// "<id>:<sha256>" (encrypted: the keyed id, then the plain SHA-256 of the chunk's content,
// which only the sealed manifest holds). The order lets it be written and read as a stream:
// a 2 TiB disk has two million ids, and neither a writer nor a reader holds them in memory
// (the writer spools them to a local file). Version 2 replaced version 1 (no image digest,
// sha256 always set) before any release; version 1 is refused like any unknown version. Encrypted, the manifest is sealed in 64 KiB segments (the STREAM construction) bound
// to its own key, so it cannot be truncated, reordered or moved to another VM or time. The
// manifest is the commit marker: a restore point exists once it is written, and Delete
// removes only it.
//
// # Writing a restore point (the incremental function's API)
//
//	b, err := rp.Begin(ctx, vmUUID, snapshotTime)          // waits while a GC sweeps
//	defer b.Abort(ctx)                                      // does nothing after Commit
//	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: size,
//	        Base: &repo.BaseDisk{Point: previous, Disk: 0}}) // Base: nil on a full scan
//	err = w.Put(ctx, index, chunk)                          // changed chunks, increasing index
//	err = w.PutAt(ctx, offset, chunk)                       // the same by byte offset
//	err = w.Fill(ctx, rawExport)                            // or: the rest of the disk, in order
//	disk, stats, err := w.Close(ctx)                        // chunks never Put come from Base
//	m, err := b.Commit(ctx, vmRecordsJSON)                  // the manifest, last
//
// With a base, the chunks the caller does not Put keep the base's entries (ids, and sums
// when encrypted), copied from its manifest: no chunk of the base is read, so an incremental
// point costs the changed chunks and two manifests. Up to WithConcurrency chunks are
// hashed, compressed and stored at once.
//
// A writer that knows which blocks of a chunk changed can patch it instead of reading it
// whole: OpenBaseChunks walks the base's entries (At, increasing index) and Read returns a
// base chunk's content checked against its id, over which the changed blocks are laid before
// the chunk is Put.
//
// # Image digest
//
// Every disk of a manifest carries image_digest: the SHA-256 over the concatenation, in
// chunk order, of each chunk's SHA-256 (32 bytes each; a zero chunk contributes the SHA-256
// of that many zero bytes; the last chunk's is over its actual, possibly short, length). It
// is a two-level hash list: two images with one digest have equal chunk digests in equal
// order, hence equal chunks, unless SHA-256 collides, so it binds the image as a flat SHA-256
// does. It needs no chunk's content: in a plain repository a chunk's id is its SHA-256; in
// an encrypted one the manifest records the SHA-256 beside the keyed id, and a re-used
// chunk's is copied from the base. It is not keyed: equal images have equal digests in any
// repository, however they were written (full scan or incremental). It replaces the flat
// sha256, which is not written: a SHA-256 of the whole image cannot be derived from the
// chunks' digests, so it cost a second pass over every byte of a full scan (a quarter of a
// first run's CPU with the chunk ids) for a guarantee the image digest already gives.
//
// Reading: OpenDisk streams an image in order, checking every chunk against its id (and,
// encrypted, its content against the SHA-256 its entry records) before returning its bytes,
// then the image digest at the end, and the flat SHA-256 when the manifest has one (a
// mismatch replaces io.EOF). So a damaged chunk fails at that chunk; chunks swapped, dropped
// or added in a manifest, each intact, fail at the image digest. A missing or damaged chunk
// is an error naming the chunk id and its offset.
//
// # GC and backups
//
// GC marks (reads every manifest and spools the ids they use to a local temp file, by
// shard, leaving out those the VM's previous point had at the same place, so that its memory
// does not grow with the chunks; see refSpool), then sweeps (one 2-hex shard at a time:
// reads that shard's ids back, sorted and deduplicated, lists the shard's chunks and removes
// those not marked). Verify marks the same way. The rule that makes a sweep safe
// beside backups running on other hosts is mutual exclusion through two kinds of objects on
// the remote itself:
//
//   - A backup writes its lease (sessions/) and only then lists the sweep markers; if a
//     valid one exists it removes its lease, waits, and tries again.
//   - A GC, after its mark, writes its sweep marker and only then lists the leases; if a
//     valid one exists it removes its marker and sweeps nothing ("deferred": the next GC
//     will). Otherwise it marks the manifests committed since its first mark, then sweeps.
//
// On a remote where a read sees every write that completed before it (a file system; S3,
// strongly consistent since 2020), the two write-then-read sequences cannot both miss each
// other: either the GC sees the lease, or the backup sees the marker (or both, and both back
// off). So no chunk is deleted while a backup that could re-use it is running: a backup re-
// uses a chunk only while its lease is valid, and commits its manifest before releasing it;
// the GC's second mark then sees that manifest. A chunk a backup finds missing, it stores.
//
// The same exchange keeps one writer per restore point: a backup's lease names its point,
// and Begin, once the lease is written, fails when another live lease names the point or
// its manifest exists. Two backups of one point cannot both miss each other; without it the
// later manifest would silently replace the earlier.
//
// Leases and markers are rewritten every fifth of WithStaleAfter (default 10 minutes); one
// older than that, compared with the reader's own lease or marker (both ModTimes come from
// the remote, so host clocks do not matter), belongs to a crashed process and is ignored. A
// holder whose refreshes were ever further apart than half that time (by its wall clock or
// by the remote's ModTimes), or whose last refresh is that old, stops trusting its lease for
// good: a backup refuses to commit (just before the manifest's Commit too), a GC stops
// deleting. The holder never measures that time with Go's monotonic clock, which stops
// while the host is suspended: a host resumed after a long suspend finds its lease lapsed,
// as everyone else has. A manifest's commit that stalls while the lease lapses (the remote unreachable,
// the refreshes failing) may land after a GC swept; the lease is checked again once the
// commit returns, and such a manifest is removed and the commit fails, so a reader can meet
// it only in that moment (a restore then fails on the missing chunk, never restores wrong
// data). The remaining window is a process frozen for longer than half of StaleAfter
// between the last check and the remote's commit; the default keeps it far beyond any pause
// a backup host survives. Sweeps defer to backups, so a repository backed up around the
// clock is swept when a GC runs between them (GC after prune, and on a schedule).
//
// On top of the exclusion, an unreferenced chunk is swept only once older than the grace
// period (GCOptions.Grace, default 1 hour) before the sweep marker's time.
//
// When to collect: Delete marks the repository as due, with a marker object of its own
// (gc/due/, written after the manifest is removed, never rewritten). GC lists the markers
// before its first mark phase and, only once it has swept, removes those it listed: they
// name deletions its marks saw. A point deleted during a GC leaves a marker that GC did not
// list; a GC that is deferred, fails or is killed removes none (and one asked for while
// nothing was due writes one when it does not sweep). So GCDue tells whether a GC has
// anything new to collect, across crashes. Callers collect once after a batch of deletions
// (the prune function, once at the end of a run), not after each: every GC reads every
// manifest.
//
// Crashes: GC keeps no state beyond the markers; it is idempotent, so a sweep cut short
// leaves unreferenced chunks that the next GC removes, and the repository due for it. A
// crashed backup leaves chunks no manifest names and its lease, which goes stale; the next
// GC that sweeps removes the chunks, the temp files and pending multipart uploads of
// interrupted uploads (last active twice the leases' validity, or the grace if longer,
// before the sweep marker by the remote's times), and the leases and sweep markers stale
// for twice their validity. A manifest is never
// visible half-written.
//
// # Verify
//
// Verify checks that every chunk a manifest names exists; Deep also reads each one and
// checks that it decrypts, decompresses and hashes to its id. Each missing or damaged chunk
// is reported with every restore point, disk and offset that uses it; VerifyOptions.Points
// limits the check to some points' manifests and chunks. It reports the points
// whose manifests it read (a point committed while it runs was not checked), and each
// damaged manifest as a damaged point, checking the others still: unlike GC, which cannot
// know the chunks such a manifest uses and stops on it, a verify loses nothing by going on.
// A manifest or (Deep) a chunk that cannot be read (the transfer fails, a network error
// says nothing of the data) stops the verify with that error.
//
// # Mirror
//
// CopyPoint copies a restore point from one repository to another as stored: the chunks
// the target lacks (each checked against its id on the way), then the manifest, last, under
// a lease on the target so that its GC cannot sweep the copied chunks before the manifest
// names them. The target is not asked about every chunk (a Stat, an S3 HEAD: two million
// for a 2 TiB disk): once the lease is held, the copy reads the manifest of the VM's point
// on the target nearest the one copied, beside the copied point's, in disk order, and a
// chunk it names at the same disk and index is taken as there. That is the rule a backup
// follows with its base: a committed manifest's chunks are durable, and no sweep runs while
// the lease holds, even if that point is deleted meanwhile; the copy's manifest, committed
// under the lease, names them for the next GC. So a copy asks about the chunks that changed,
// and holds two manifest readers, not a set of ids.
//
// Copying as stored needs both repositories to cut, name and encrypt chunks alike
// (Compatible: same chunk size, same chunk ids, the same salt); InitMirror creates a
// target as the source's mirror. A target made otherwise is refused (ErrIncompatible):
// re-chunking is not done. A copy cut short leaves unreferenced chunks only; the next copy
// re-uses them, the target's GC otherwise removes them.
//
// # Encryption
//
// The repository key (32 random bytes, a base64 key file, see `xbr repo key`) never reaches
// the remote. HKDF-SHA-256 with the repository's salt derives the chunk-id key, the data key
// (XChaCha20-Poly1305, a random 24-byte nonce per chunk, the chunk id as associated data)
// and a key check value stored in config.json: a wrong key is refused when the repository is
// opened (ErrWrongKey), before anything is read or written. Names stay visible: VM uuids,
// point times, chunk ids (keyed), sizes.
//
// config.json is created only where none exists (remote.PutNew: a hard link on dir,
// If-None-Match: * on S3), so of processes that find no repository and create one at once
// (scaled-out functions on a new remote) exactly one writes its salt; the others open it.
package repo
