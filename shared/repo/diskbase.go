package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// baseIDs walks the chunk entries of a base disk as a writer moves through its own disk.
type baseIDs struct {
	mr     *manifestReader
	closer io.Closer
	point  Point
	size   int64
	chunks int64
	pos    int64 // index of the entry next returns
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
	return &baseIDs{mr: mr, closer: closer, point: b.Point, size: d.Size, chunks: d.Chunks}, nil
}

// at returns the base's entry of chunk index, skipping those before it.
func (bi *baseIDs) at(index int64) (entry, error) {
	if index >= bi.chunks {
		return entry{}, errNotInBase
	}
	for {
		e, err := bi.mr.next()
		if err != nil {
			return entry{}, fmt.Errorf("base %s: chunk %d: %w", bi.point, bi.pos, err)
		}
		bi.pos++
		if bi.pos > index {
			return e, nil
		}
	}
}

var errNotInBase = errors.New("not in the base disk")

// reuse takes chunks w.next up to (not including) upto from the base: their entries (id,
// and SHA-256 when keyed) are copied to the spool, from which Close derives the image
// digest. No chunk is read: the base's entries say all the digest needs.
func (w *DiskWriter) reuse(ctx context.Context, upto int64) error {
	if upto <= w.next {
		return nil
	}
	if w.base == nil {
		return fmt.Errorf("disk %q: chunks %d to %d were not given and there is no base", w.spec.Name, w.next, upto-1)
	}
	rec := w.b.rp.spoolRecord()
	buf := make([]byte, 0, 64<<10)
	from := w.next
	for i := w.next; i < upto; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		e, err := w.fromBase(i)
		if err != nil {
			return err
		}
		buf = buf[:len(buf)+rec]
		w.b.rp.putRecord(buf[len(buf)-rec:], e)
		if len(buf)+rec > cap(buf) || i == upto-1 {
			if _, err := w.spool.WriteAt(buf, from*int64(rec)); err != nil {
				return fmt.Errorf("disk %q: chunk id spool: %w", w.spec.Name, err)
			}
			buf, from = buf[:0], i+1
		}
	}
	w.next = upto
	return nil
}

// fromBase is the base's entry for chunk i of the disk being written, counted in the stats.
func (w *DiskWriter) fromBase(i int64) (entry, error) {
	e, err := w.base.at(i)
	if errors.Is(err, errNotInBase) {
		return entry{}, fmt.Errorf("disk %q: chunk %d was not given and the base disk has only %d chunks", w.spec.Name, i, w.base.chunks)
	}
	if err != nil {
		return entry{}, fmt.Errorf("disk %q: reuse from base: %w", w.spec.Name, err)
	}
	if have, want := chunkLen(w.base.size, w.cs, i), chunkLen(w.spec.Size, w.cs, i); have != want {
		return entry{}, fmt.Errorf("disk %q: chunk %d was not given and is %d bytes in the base disk, %d in this one", w.spec.Name, i, have, want)
	}
	if e.id == zeroID {
		w.stats.ZeroChunks++
	} else {
		w.stats.ReusedChunks++
	}
	return e, nil
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
		err = w.spool.Truncate(w.count * int64(w.b.rp.spoolRecord()))
	}
	var digest string
	if err == nil {
		digest, err = w.b.rp.spoolDigest(w.spool, w.spec.Size, w.count)
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
		ImageDigest: digest}
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
	return w.spool.Close()
}
