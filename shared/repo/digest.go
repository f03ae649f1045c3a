package repo

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// imageHash computes a disk's image digest (Disk.ImageDigest): the SHA-256 over its
// chunks' SHA-256s, in chunk order. Fed the digest of every chunk, zero chunks included, it
// binds the image exactly as a flat SHA-256 of it would: two images with the same digest
// have the same chunk digests in the same order (else SHA-256 collides), hence the same
// chunks (same argument), hence the same bytes; the chunk size and the disk size, which fix
// the cutting, are in the manifest beside it.
type imageHash struct{ h hash.Hash }

func newImageHash() imageHash { return imageHash{h: sha256.New()} }

// add appends the next chunk's SHA-256.
func (ih imageHash) add(sum [32]byte) { ih.h.Write(sum[:]) }

// String is the digest in lowercase hex.
func (ih imageHash) String() string { return hex.EncodeToString(ih.h.Sum(nil)) }

// spoolRecord is the size of a chunk's record in a disk writer's spool: its id, and its
// SHA-256 when ids are keyed. A zero record stands for a zero chunk.
func (rp *Repo) spoolRecord() int {
	if rp.keyed() {
		return 2 * sha256.Size
	}
	return sha256.Size
}

// recordEntry is the entry a spool record holds.
func (rp *Repo) recordEntry(rec []byte) entry {
	var e entry
	copy(e.id[:], rec)
	e.sum = e.id
	if rp.keyed() {
		copy(e.sum[:], rec[sha256.Size:])
	}
	return e
}

// putRecord writes e's record into rec.
func (rp *Repo) putRecord(rec []byte, e entry) {
	copy(rec, e.id[:])
	if rp.keyed() {
		copy(rec[sha256.Size:], e.sum[:])
	}
}

// spoolEntries calls fn with the entries of a disk's spool, in chunk order.
func (rp *Repo) spoolEntries(spool io.ReaderAt, chunks int64, fn func(k int64, e entry) error) error {
	n := rp.spoolRecord()
	r := bufio.NewReaderSize(io.NewSectionReader(spool, 0, chunks*int64(n)), 64<<10)
	rec := make([]byte, n)
	for k := int64(0); k < chunks; k++ {
		if _, err := io.ReadFull(r, rec); err != nil {
			return fmt.Errorf("chunk id spool: chunk %d: %w", k, err)
		}
		if err := fn(k, rp.recordEntry(rec)); err != nil {
			return err
		}
	}
	return nil
}

// spoolDigest is the image digest of a disk of size bytes whose chunks the spool lists.
func (rp *Repo) spoolDigest(spool io.ReaderAt, size int64, chunks int64) (string, error) {
	ih := newImageHash()
	err := rp.spoolEntries(spool, chunks, func(k int64, e entry) error {
		ih.add(rp.entrySum(e, chunkLen(size, rp.cfg.ChunkSize, k)))
		return nil
	})
	return ih.String(), err
}

// entrySum is the SHA-256 of the content of entry e, a chunk n bytes long: the one the
// entry holds, or a zero chunk's.
func (rp *Repo) entrySum(e entry, n int) [32]byte {
	if e.id == zeroID {
		return rp.zeroSum(n)
	}
	return e.sum
}
