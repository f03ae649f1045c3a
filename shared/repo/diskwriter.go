package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// DiskSpec describes a disk to write.
type DiskSpec struct {
	// Name is the caller's name for the disk (its VBD device or VDI uuid), 1 to 200 bytes.
	Name string
	// Size is the disk image's size in bytes.
	Size int64
	// Base, when set, is the disk of an earlier restore point whose chunk ids stand for
	// every chunk the caller does not Put (the unchanged ones of an incremental run).
	Base *BaseDisk
}

// BaseDisk names a disk of an existing restore point.
type BaseDisk struct {
	Point Point
	Disk  int
}

// DiskStats counts what writing a disk did.
type DiskStats struct {
	Chunks, ZeroChunks int64
	// ReusedChunks came from the base; NewChunks were stored; DedupChunks were given but
	// already stored.
	ReusedChunks, NewChunks, DedupChunks int64
	// BytesIn were given by Put; BytesStored were written to the remote (compressed, sealed).
	BytesIn, BytesStored int64
}

// DiskWriter stores one disk's chunks. Put them in increasing index order; chunks never
// Put come from the base (or make Close fail when there is none). Zero chunks are only
// marked. Up to the repository's concurrency chunks are hashed, compressed and stored at
// once, so memory is bounded by that many chunks; the chunk ids wait in a local spool file.
type DiskWriter struct {
	b     *Backup
	spec  DiskSpec
	cs    int
	count int64
	spool *os.File
	next  int64
	base  *baseIDs
	stats DiskStats
	zero  []byte

	sem      chan struct{}
	wg       sync.WaitGroup
	failed   atomic.Pointer[error]
	newN     atomic.Int64
	dedupN   atomic.Int64
	storedN  atomic.Int64
	bufs     sync.Pool
	finished bool
}

// AddDisk starts the next disk. The previous one must be closed.
func (b *Backup) AddDisk(ctx context.Context, spec DiskSpec) (*DiskWriter, error) {
	if b.ended || b.open != nil {
		return nil, fmt.Errorf("restore point %s: disk %q: a disk is open or the point has ended", b.point, spec.Name)
	}
	cs := b.rp.cfg.ChunkSize
	d := Disk{Name: spec.Name, Size: spec.Size, ChunkSize: cs, Chunks: chunkCount(spec.Size, cs), ImageDigest: hex.EncodeToString(make([]byte, 32))}
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("restore point %s: disk: %w", b.point, err)
	}
	spool, err := openSpool(b.rp.opts.tempDir)
	if err != nil {
		return nil, fmt.Errorf("restore point %s: disk %q: chunk id spool: %w", b.point, spec.Name, err)
	}
	w := &DiskWriter{b: b, spec: spec, cs: cs, count: d.Chunks, spool: spool,
		sem: make(chan struct{}, b.rp.opts.concurrency), zero: make([]byte, cs)}
	w.bufs.New = func() any { b := make([]byte, cs); return &b }
	if spec.Base != nil {
		if w.base, err = b.rp.openBase(ctx, *spec.Base, cs); err != nil {
			return nil, errors.Join(fmt.Errorf("restore point %s: disk %q: %w", b.point, spec.Name, err), w.abort())
		}
	}
	b.open = w
	return w, nil
}

// Put stores chunk index (its bytes at offset index×chunk size; the last chunk may be
// short). data is not kept after Put returns.
func (w *DiskWriter) Put(ctx context.Context, index int64, data []byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if index < w.next || index >= w.count {
		return fmt.Errorf("disk %q: chunk %d: want an index from %d to %d, in increasing order", w.spec.Name, index, w.next, w.count-1)
	}
	if want := chunkLen(w.spec.Size, w.cs, index); len(data) != want {
		return fmt.Errorf("disk %q: chunk %d: %d bytes, want %d", w.spec.Name, index, len(data), want)
	}
	if err := w.reuse(ctx, index); err != nil {
		return err
	}
	if w.base != nil {
		if _, err := w.base.at(index); err != nil && !errors.Is(err, errNotInBase) {
			return err
		}
	}
	w.next = index + 1
	w.stats.BytesIn += int64(len(data))
	if isZero(data) {
		w.stats.ZeroChunks++
		return nil
	}
	return w.store(ctx, index, data)
}

// PutAt is Put for the chunk at byte offset off, which must be a multiple of the chunk size.
func (w *DiskWriter) PutAt(ctx context.Context, off int64, data []byte) error {
	if off < 0 || off%int64(w.cs) != 0 {
		return fmt.Errorf("disk %q: offset %d: not a multiple of the chunk size %d", w.spec.Name, off, w.cs)
	}
	return w.Put(ctx, off/int64(w.cs), data)
}

// Fill reads the rest of the disk from r in order (a full scan), from the first chunk not
// yet Put to the end, and checks that r ends there.
func (w *DiskWriter) Fill(ctx context.Context, r io.Reader) error {
	buf := make([]byte, w.cs)
	for i := w.next; i < w.count; i++ {
		n := chunkLen(w.spec.Size, w.cs, i)
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return fmt.Errorf("disk %q: read chunk %d at offset %d: %w", w.spec.Name, i, i*int64(w.cs), err)
		}
		if err := w.Put(ctx, i, buf[:n]); err != nil {
			return err
		}
	}
	if k, _ := io.ReadFull(r, buf[:1]); k != 0 {
		return fmt.Errorf("disk %q: the stream is longer than the disk's %d bytes", w.spec.Name, w.spec.Size)
	}
	return nil
}

func (w *DiskWriter) usable() error {
	if w.finished {
		return fmt.Errorf("disk %q: already closed", w.spec.Name)
	}
	if p := w.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// store hands a non-zero chunk to a worker: id, has-check, compress, seal, upload.
func (w *DiskWriter) store(ctx context.Context, index int64, data []byte) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	buf := w.bufs.Get().(*[]byte)
	chunk := append((*buf)[:0], data...)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		defer w.bufs.Put(buf)
		if err := w.storeOne(ctx, index, chunk); err != nil {
			err = fmt.Errorf("disk %q: chunk %d at offset %d: %w", w.spec.Name, index, index*int64(w.cs), err)
			w.failed.CompareAndSwap(nil, &err)
		}
	}()
	return nil
}

func (w *DiskWriter) storeOne(ctx context.Context, index int64, chunk []byte) error {
	e := entry{id: w.b.rp.codec.id(chunk)}
	e.sum = e.id
	if w.b.rp.keyed() {
		e.sum = sha256.Sum256(chunk)
	}
	n, err := w.b.rp.putChunk(ctx, w.b.chunks, e.id, chunk)
	if err != nil {
		return err
	}
	if n > 0 {
		w.newN.Add(1)
		w.storedN.Add(n)
	} else {
		w.dedupN.Add(1)
	}
	rec := make([]byte, w.b.rp.spoolRecord())
	w.b.rp.putRecord(rec, e)
	_, err = w.spool.WriteAt(rec, index*int64(len(rec)))
	return err
}

// openSpool creates a chunk-id spool in dir and unlinks it at once: it lives as long as the
// open file, so a process killed mid-backup leaves nothing behind (a 2 TiB disk's spool is
// 64 MiB, more when encrypted).
func openSpool(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "xbr-repo-ids-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}
