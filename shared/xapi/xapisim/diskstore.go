package xapisim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// disk is one VDI's content: its size and where its bytes come from.
type disk struct {
	size int64
	src  source
}

// fileSource is an imported disk kept as a sparse file.
type fileSource struct {
	f    *os.File
	path string
}

func (f *fileSource) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.f.ReadAt(p, off)
	if errors.Is(err, io.EOF) && n == len(p) {
		err = nil
	}
	return n, err
}

// diskStore maps VDI refs to content; snapshots share a source.
type diskStore struct {
	dir string
	mu  sync.Mutex
	m   map[string]*disk
}

func newDiskStore(dir string) (*diskStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("xapisim: data dir: %w", err)
	}
	return &diskStore{dir: dir, m: map[string]*disk{}}, nil
}

func (d *diskStore) put(ref string, size int64, src source) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[ref] = &disk{size: size, src: src}
}

func (d *diskStore) get(ref string) (*disk, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.m[ref]
	return k, ok
}

// share makes ref a copy-on-write view of from's content.
func (d *diskStore) share(ref, from string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k, ok := d.m[from]; ok {
		freeze(k.src)
		d.m[ref] = &disk{size: k.size, src: k.src}
	}
}

// drop forgets ref, removing its file when no other VDI shares it.
func (d *diskStore) drop(ref string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.m[ref]
	if !ok {
		return nil
	}
	delete(d.m, ref)
	var err error
	for src := k.src; src != nil; {
		for _, other := range d.m {
			if uses(other.src, src) {
				return err
			}
		}
		switch x := src.(type) {
		case *fileSource:
			return errors.Join(err, x.f.Close(), os.Remove(x.path))
		case *layer:
			err = errors.Join(err, x.f.Close(), os.Remove(x.path))
			src = x.parent
		case *zeroTail:
			src = x.src
		default:
			return err
		}
	}
	return err
}

// writeSparse stores exactly size bytes of r in a new sparse file: all-zero
// 1 MiB blocks become holes.
func (d *diskStore) writeSparse(r io.Reader, size int64) (*fileSource, error) {
	f, err := os.CreateTemp(d.dir, "vdi-*.raw")
	if err != nil {
		return nil, fmt.Errorf("xapisim: create disk file: %w", err)
	}
	fs := &fileSource{f: f, path: f.Name()}
	if err := copySparse(f, r, size); err != nil {
		return nil, errors.Join(err, f.Close(), os.Remove(fs.path))
	}
	return fs, nil
}

var zeroBlock = make([]byte, blockSize)

func copySparse(f *os.File, r io.Reader, size int64) error {
	bp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bp)
	for off := int64(0); off < size; {
		b := (*bp)[:min(blockSize, size-off)]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("xapisim: disk content at byte %d of %d: %w", off, size, err)
		}
		if !bytes.Equal(b, zeroBlock[:len(b)]) {
			if err := writeAtChunked(f, b, off); err != nil {
				return fmt.Errorf("xapisim: write disk file: %w", err)
			}
		}
		off += int64(len(b))
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("xapisim: size disk file: %w", err)
	}
	return nil
}

// reader streams a disk from its start.
func (k *disk) reader() io.Reader { return io.NewSectionReader(k.src, 0, k.size) }

// allocatedBytes is the physical utilisation of the content (non-hole bytes).
func (k *disk) allocatedBytes() int64 {
	if g, ok := k.src.(*genSource); ok {
		return g.allocated(k.size)
	}
	return k.size
}

// writeAtChunked writes b at off in 128 KiB system calls: on ext4 under Linux
// 6.18, 1 MiB writes cost about five times the kernel time per byte (see
// shared/remote/dir's writeChunk).
func writeAtChunked(f *os.File, b []byte, off int64) error {
	for i := 0; i < len(b); i += 128 << 10 {
		if _, err := f.WriteAt(b[i:min(len(b), i+128<<10)], off+int64(i)); err != nil {
			return err
		}
	}
	return nil
}

// grow makes ref's content size bytes long: the old bytes, then zeros.
// Readers holding the old content keep their view.
func (d *diskStore) grow(ref string, size int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.m[ref]
	if !ok {
		return fmt.Errorf("no content for VDI %s", ref)
	}
	freeze(k.src) // a write after the resize starts a layer of the new size
	d.m[ref] = &disk{size: size, src: &zeroTail{src: k.src, size: k.size}}
	return nil
}

// zeroTail reads src up to size and zeros beyond: a grown disk.
type zeroTail struct {
	src  source
	size int64
}

func (z *zeroTail) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < z.size {
		k := int(min(int64(len(p)), z.size-off))
		m, err := z.src.ReadAt(p[:k], off)
		if m < k {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return m, err
		}
		n = k
	}
	clear(p[n:])
	return len(p), nil
}
