package repo

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// baseIDs walks the chunk ids of a base disk as a writer moves through its own disk.
type baseIDs struct {
	mr     *manifestReader
	closer io.Closer
	point  Point
	chunks int64
	pos    int64 // index of the id next returns
}

func (rp *Repo) openBase(ctx context.Context, b BaseDisk, chunkSize int) (*baseIDs, error) {
	mr, closer, err := rp.openManifest(ctx, b.Point)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	if err := mr.seekDisk(b.Disk); err != nil {
		closer.Close()
		return nil, fmt.Errorf("base: %w", err)
	}
	d := mr.m.Disks[b.Disk]
	if d.ChunkSize != chunkSize {
		closer.Close()
		return nil, fmt.Errorf("base %s disk %d: chunk size %d, the repository's is %d", b.Point, b.Disk, d.ChunkSize, chunkSize)
	}
	return &baseIDs{mr: mr, closer: closer, point: b.Point, chunks: d.Chunks}, nil
}

// at returns the base's id of chunk index, skipping those before it.
func (bi *baseIDs) at(index int64) (ChunkID, error) {
	if index >= bi.chunks {
		return ChunkID{}, errNotInBase
	}
	for {
		id, err := bi.mr.next()
		if err != nil {
			return ChunkID{}, fmt.Errorf("base %s: chunk %d: %w", bi.point, bi.pos, err)
		}
		bi.pos++
		if bi.pos > index {
			return id, nil
		}
	}
}

var errNotInBase = errors.New("not in the base disk")

// reuse accounts for chunks w.next up to (not including) upto from the base: their ids go to
// the spool, and their content, read back and verified, into the disk's SHA-256.
func (w *DiskWriter) reuse(ctx context.Context, upto int64) error {
	if upto <= w.next {
		return nil
	}
	if w.base == nil {
		return fmt.Errorf("disk %q: chunks %d to %d were not given and there is no base", w.spec.Name, w.next, upto-1)
	}
	i := w.next
	refs := func() (ref, bool, error) {
		if i >= upto {
			return ref{}, false, nil
		}
		id, err := w.base.at(i)
		if errors.Is(err, errNotInBase) {
			err = fmt.Errorf("disk %q: chunk %d was not given and the base disk has only %d chunks", w.spec.Name, i, w.base.chunks)
		}
		r := ref{index: i, id: id}
		i++
		return r, err == nil, err
	}
	each := func(f fetched) error {
		n := chunkLen(w.spec.Size, w.cs, f.index)
		if f.data == nil {
			w.sum.Write(w.zero[:n])
			w.stats.ZeroChunks++
		} else {
			w.sum.Write(f.data)
			w.stats.ReusedChunks++
			if _, err := w.spool.WriteAt(f.id[:], f.index*int64(len(f.id))); err != nil {
				return err
			}
		}
		w.next = f.index + 1
		return nil
	}
	lenOf := func(k int64) int { return chunkLen(w.spec.Size, w.cs, k) }
	if err := w.b.rp.fetchOrdered(ctx, refs, lenOf, each); err != nil {
		return fmt.Errorf("disk %q: reuse from base %s: %w", w.spec.Name, w.base.point, err)
	}
	return nil
}

// Close accounts for the chunks never Put (from the base), waits for the stores, and ends the
// disk. The stats are final once Close succeeds.
func (w *DiskWriter) Close(ctx context.Context) (Disk, DiskStats, error) {
	if err := w.usable(); err != nil {
		return Disk{}, DiskStats{}, errors.Join(err, w.abort())
	}
	err := w.reuse(ctx, w.count)
	w.wg.Wait()
	if p := w.failed.Load(); err == nil && p != nil {
		err = *p
	}
	if err == nil {
		err = w.spool.Truncate(w.count * int64(len(ChunkID{})))
	}
	if err != nil {
		return Disk{}, DiskStats{}, errors.Join(err, w.abort())
	}
	w.finished = true
	if w.base != nil {
		w.base.closer.Close()
	}
	st := w.stats
	st.Chunks, st.NewChunks, st.DedupChunks, st.BytesStored = w.count, w.newN.Load(), w.dedupN.Load(), w.storedN.Load()
	d := Disk{Name: w.spec.Name, Size: w.spec.Size, ChunkSize: w.cs, Chunks: w.count, ZeroChunks: st.ZeroChunks,
		SHA256: hex.EncodeToString(w.sum.Sum(nil))}
	w.b.disks = append(w.b.disks, finishedDisk{disk: d, spool: w.spool})
	w.b.open = nil
	return d, st, nil
}

// abort ends the disk without keeping it.
func (w *DiskWriter) abort() error {
	w.wg.Wait()
	w.finished = true
	if w.base != nil {
		w.base.closer.Close()
	}
	w.b.open = nil
	return errors.Join(w.spool.Close(), os.Remove(w.spool.Name()))
}
