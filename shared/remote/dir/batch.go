package dir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"xbr/shared/remote"
)

var _ remote.Batcher = (*Dir)(nil)

// Batch is a remote.Batch on a Dir, for many small objects in a few folders (a
// repository's chunk shards). Each folder, and its temp folder under remote.TempFolder, is
// located once (made if missing, as Create does) and kept open until Close. An object is
// written as an Upload writes it (temp file, fsync, rename), but the folder fsync that makes
// the rename durable waits for Barrier, which syncs each touched folder once.
type Batch struct {
	d       *Dir
	mu      sync.Mutex
	top     *os.Root
	folders map[string]*os.Root // by folder path relative to the remote
	touched map[string]bool     // folders whose entries Barrier must make durable
	closed  bool
}

// NewBatch starts a batch on d.
func (d *Dir) NewBatch(ctx context.Context) (remote.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("remote %s: batch: %w", d.name, err)
	}
	top, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, d.wrap("batch", ".", err)
	}
	return &Batch{d: d, top: top, folders: map[string]*os.Root{}, touched: map[string]bool{}}, nil
}

// folder returns the open folder path ("" for the remote's directory), making it first.
func (b *Batch) folder(path string) (*os.Root, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("batch closed")
	}
	if path == "" {
		return b.top, nil
	}
	if r, ok := b.folders[path]; ok {
		return r, nil
	}
	p, err := b.d.openFolder(path, "", true)
	if err != nil {
		return nil, err
	}
	p.top.Close() // p.folder is an os.Root of its own
	b.folders[path] = p.folder
	return p.folder, nil
}

func splitKey(key string) (dir, base string) {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

func (b *Batch) touch(dir string) {
	b.mu.Lock()
	b.touched[dir] = true
	b.mu.Unlock()
}

// Stat describes the object under key; one found counts as touched (see remote.Batch).
func (b *Batch) Stat(ctx context.Context, key string) (remote.Info, error) {
	if err := b.d.check(ctx, "stat", key); err != nil {
		return remote.Info{}, err
	}
	dir, base := splitKey(key)
	f, err := b.folder(dir)
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Lstat(base)
	}
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		err = newLinkError(b.top, key)
	case err == nil && !fi.Mode().IsRegular():
		err = fs.ErrNotExist
	}
	if err != nil {
		return remote.Info{}, b.d.wrap("stat", key, err)
	}
	b.touch(dir)
	return remote.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Put writes data under key through a temp file that it fsyncs and renames; the folder is
// synced by Barrier.
func (b *Batch) Put(ctx context.Context, key string, data []byte) error {
	if err := b.d.check(ctx, "create", key); err != nil {
		return err
	}
	dir, base := splitKey(key)
	tdir := remote.TempFolder
	if dir != "" {
		tdir += "/" + dir
	}
	if _, err := b.folder(dir); err != nil {
		return b.d.wrap("create", key, err)
	}
	tf, err := b.folder(tdir)
	if err != nil {
		return b.d.wrap("create", key, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := remote.TempName(base, hex.EncodeToString(rnd[:]))
	if err := b.writeTemp(tf, tmp, data); err != nil {
		return errors.Join(b.d.wrap("write", key, err), removeTemp(tf, tmp))
	}
	if err := b.top.Rename(tdir+"/"+tmp, key); err != nil {
		return errors.Join(b.d.wrap("commit", key, err), removeTemp(tf, tmp))
	}
	b.touch(dir)
	return nil
}

// writeTemp creates tmp in tf with data, fsynced.
func (b *Batch) writeTemp(tf *os.Root, tmp string, data []byte) error {
	f, err := tf.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, b.d.opts.fileMode)
	if err != nil {
		return err
	}
	var w interface{ Write([]byte) (int, error) } = f
	if b.d.opts.wrapWrite != nil {
		w = b.d.opts.wrapWrite(f)
	}
	for n := 0; n < len(data) && err == nil; n += writeChunk { // see writeChunk
		_, err = w.Write(data[n:min(len(data), n+writeChunk)])
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func removeTemp(tf *os.Root, tmp string) error {
	if err := tf.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Barrier fsyncs every folder touched since the last successful Barrier. The folders are
// taken off the touched set before their fsync, so a Put renaming into one during it marks
// it again, for the next Barrier; those not synced go back on a failure.
func (b *Batch) Barrier(ctx context.Context) error {
	b.mu.Lock()
	dirs := make([]string, 0, len(b.touched))
	for dir := range b.touched {
		dirs = append(dirs, dir)
	}
	clear(b.touched)
	b.mu.Unlock()
	for i, dir := range dirs {
		err := ctx.Err()
		if err != nil {
			err = fmt.Errorf("remote %s: barrier: %w", b.d.name, err)
		} else {
			var f *os.Root
			if f, err = b.folder(dir); err == nil {
				err = b.syncFolder(f)
			}
			if err != nil {
				err = b.d.wrap("barrier", dir, err)
			}
		}
		if err != nil {
			b.mu.Lock()
			for _, d := range dirs[i:] {
				b.touched[d] = true
			}
			b.mu.Unlock()
			return err
		}
	}
	return nil
}

func (b *Batch) syncFolder(f *os.Root) error {
	if b.d.opts.syncHook != nil {
		if err := b.d.opts.syncHook(); err != nil {
			return err
		}
	}
	return syncFolder(f)
}

// Close closes the batch's folders. It implies no barrier.
func (b *Batch) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var errs []error
	for _, r := range b.folders {
		errs = append(errs, r.Close())
	}
	return errors.Join(append(errs, b.top.Close())...)
}
