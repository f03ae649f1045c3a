package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// BaseChunks reads the content of a base disk's chunks, so that a writer can patch a
// changed chunk (the base's content with the changed blocks read from the host laid over
// it) instead of reading the whole chunk from the host. At walks the base's entries in
// increasing index order; Read may run concurrently.
type BaseChunks struct {
	rp     *Repo
	ids    *baseIDs
	size   int64 // of the disk being written
	closer io.Closer
}

// BaseChunk is chunk Index of a base disk, as BaseChunks.At found it.
type BaseChunk struct {
	Index int64
	e     entry
	n     int
}

// Zero reports whether the base chunk is all zero bytes: Read then reads nothing.
func (c BaseChunk) Zero() bool { return c.e.id == zeroID }

// OpenBaseChunks opens base b for a disk of size bytes (which may differ from the base's
// when the disk was resized: a chunk whose length differs is not in the base).
func (rp *Repo) OpenBaseChunks(ctx context.Context, b BaseDisk, size int64) (*BaseChunks, error) {
	ids, err := rp.openBase(ctx, b, rp.cfg.ChunkSize)
	if err != nil {
		return nil, err
	}
	return &BaseChunks{rp: rp, ids: ids, size: size, closer: ids.closer}, nil
}

// At returns chunk index of the base; ok is false when the base has no chunk of the same
// length there. Indexes must increase from call to call.
func (bc *BaseChunks) At(index int64) (c BaseChunk, ok bool, err error) {
	cs := bc.rp.cfg.ChunkSize
	n := chunkLen(bc.size, cs, index)
	if index < bc.ids.pos || index >= bc.ids.chunks || chunkLen(bc.ids.size, cs, index) != n {
		return BaseChunk{}, false, nil
	}
	e, err := bc.ids.at(index)
	if err != nil {
		return BaseChunk{}, false, err
	}
	return BaseChunk{Index: index, e: e, n: n}, true, nil
}

// Read puts the content of c into dst, which must be the chunk's length: zeros for a zero
// chunk, else the stored chunk, checked against its id (and its SHA-256 when ids are keyed).
// A missing chunk wraps remote.ErrNotFound, a damaged one ErrCorrupt.
func (bc *BaseChunks) Read(ctx context.Context, c BaseChunk, dst []byte) error {
	if len(dst) != c.n {
		return fmt.Errorf("base chunk %d: %d bytes asked, the chunk has %d", c.Index, len(dst), c.n)
	}
	if c.Zero() {
		clear(dst)
		return nil
	}
	data, err := bc.rp.readChunk(ctx, c.e.id, c.e.sum, c.n, dst[:0])
	if err != nil {
		return fmt.Errorf("base %s chunk %s (index %d): %w", bc.ids.point, c.e.id, c.Index, err)
	}
	copy(dst, data) // a no-op unless the chunk did not fit dst's capacity
	return nil
}

// Close ends the reading of the base's entries.
func (bc *BaseChunks) Close() error {
	if bc.closer == nil {
		return errors.New("base chunks already closed")
	}
	err := bc.closer.Close()
	bc.closer = nil
	return err
}
