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
	"time"

	"xbr/shared/remote"
)

var _ remote.Batcher = (*Dir)(nil)

// Batch is a remote.Batch on a Dir, for many small objects in a few folders (a
// repository's chunk shards). Each folder, and its temp folder under remote.TempFolder, is
// located once (made if missing, as Create does) and kept open until Close. An object is
// written to a temp file and renamed to its name only once its content is durable, as an
// Upload does; but on Linux up to maxPending of them wait for one sync of the file system,
// after which each one's fsync is cheap (a first run writes thousands of chunks, and their
// fsyncs one by one were most of its system time). Until that flush the object is found by
// the batch's Stat only. The folder fsync that makes the renames durable waits for Barrier, which flushes
// first and then syncs each touched folder once.
type Batch struct {
	d       *Dir
	ops     sync.RWMutex // Stat, Put and Barrier hold it shared, Close alone
	mu      sync.Mutex
	top     *os.Root
	folders map[string]*os.Root // by folder path relative to the remote
	touched map[string]bool     // folders whose entries Barrier must make durable
	closed  bool

	// Deferred puts (where the system can sync a whole file system at once, see
	// syncfs_linux.go): Put leaves its written temp file unsynced and unnamed in pending;
	// flush writes them all back with one system call, then fsyncs and names each. An
	// object gets its name only once its content is durable, at a fraction of the cost.
	fs       *os.File               // the remote's directory, for the file-system sync; nil: no deferral
	flushMu  sync.Mutex             // one flush at a time
	pending  map[string]*pendingPut // by key: written, waiting for a flush
	flushing map[string]*pendingPut // by key: in the flush under way
	bytes    int64                  // bytes in pending
	failed   error                  // a flush that failed: no object it held may be counted on
}

// pendingPut is a deferred Put's temp file, written and still open.
type pendingPut struct {
	f        *os.File
	tf       *os.Root
	tmp, dir string
	size     int64
}

// Deferred puts are flushed once this many wait, or this many bytes: a bound on the open
// files and on what one flush writes back.
const (
	maxPending      = 128
	maxPendingBytes = 128 << 20
)

// NewBatch starts a batch on d.
func (d *Dir) NewBatch(ctx context.Context) (remote.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("remote %s: batch: %w", d.name, err)
	}
	top, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, d.wrap("batch", ".", err)
	}
	b := &Batch{d: d, top: top, folders: map[string]*os.Root{}, touched: map[string]bool{},
		pending: map[string]*pendingPut{}}
	if canSyncFS {
		if b.fs, err = top.Open("."); err != nil {
			return nil, errors.Join(d.wrap("batch", ".", err), top.Close())
		}
	}
	return b, nil
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
	b.ops.RLock()
	defer b.ops.RUnlock()
	if err := b.d.check(ctx, "stat", key); err != nil {
		return remote.Info{}, err
	}
	dir, base := splitKey(key)
	b.mu.Lock()
	p := b.pending[key]
	if p == nil {
		p = b.flushing[key]
	}
	b.mu.Unlock()
	if p != nil { // named at the next flush, which Barrier waits for
		return remote.Info{Key: key, Size: p.size, ModTime: time.Now()}, nil
	}
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

// Put writes data under key through a temp file that is fsynced and renamed: at once, or
// (deferred, see Batch) at the next flush. The folder is synced by Barrier.
func (b *Batch) Put(ctx context.Context, key string, data []byte) error {
	b.ops.RLock()
	defer b.ops.RUnlock()
	if err := b.d.check(ctx, "create", key); err != nil {
		return err
	}
	dir, base := splitKey(key)
	tdir := tempFolder(dir)
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
	if b.fs != nil {
		return b.deferPut(ctx, key, tf, tmp, dir, data)
	}
	if err := b.writeTemp(tf, tmp, data); err != nil {
		return errors.Join(b.d.wrap("write", key, err), removeTemp(tf, tmp))
	}
	if err := b.top.Rename(tdir+"/"+tmp, key); err != nil {
		return errors.Join(b.d.wrap("commit", key, err), removeTemp(tf, tmp))
	}
	b.touch(dir)
	return nil
}

// deferPut writes data to tmp in tf and leaves it to a flush, which it starts when enough
// wait. A Put of a key already waiting replaces that one's temp file.
func (b *Batch) deferPut(ctx context.Context, key string, tf *os.Root, tmp, dir string, data []byte) error {
	f, err := b.createTemp(tf, tmp, data)
	if err != nil {
		return errors.Join(b.d.wrap("write", key, err), removeTemp(tf, tmp))
	}
	p := &pendingPut{f: f, tf: tf, tmp: tmp, dir: dir, size: int64(len(data))}
	b.mu.Lock()
	old := b.pending[key]
	b.pending[key] = p
	b.bytes += p.size
	if old != nil {
		b.bytes -= old.size
	}
	full := len(b.pending) >= maxPending || b.bytes >= maxPendingBytes
	b.mu.Unlock()
	if old != nil {
		if err := errors.Join(old.f.Close(), removeTemp(old.tf, old.tmp)); err != nil {
			return b.d.wrap("write", key, err)
		}
	}
	if full {
		return b.flush(ctx)
	}
	return nil
}

// flush writes back the content of every waiting put with one file-system sync, then
// fsyncs each (cheap by then, and the judge of its own writeback errors) and names it. After
// a failure every later flush and Barrier fails: a Stat may have counted on an object that
// never got its name.
func (b *Batch) flush(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	batch, failed := b.pending, b.failed
	b.pending, b.flushing, b.bytes = map[string]*pendingPut{}, batch, 0
	b.mu.Unlock()
	err := failed
	if err == nil && len(batch) > 0 {
		if err = ctx.Err(); err == nil {
			// One writeback of everything; its error is not ours to judge (since Linux 5.8
			// syncfs reports any writeback error of the whole file system, another
			// program's too): each file's fsync below, now cheap, decides.
			_ = syncFS(b.fs)
			if b.d.opts.fsSyncHook != nil {
				err = b.d.opts.fsSyncHook()
			}
		}
		if err != nil {
			err = b.d.wrap("sync", ".", err)
		}
	}
	for key, p := range batch {
		perr := err
		if perr == nil {
			if perr = p.f.Sync(); perr != nil {
				perr = b.d.wrap("write", key, perr)
			}
		}
		if cerr := p.f.Close(); perr == nil && cerr != nil {
			perr = b.d.wrap("write", key, cerr)
		}
		if perr == nil {
			if perr = b.top.Rename(tempFolder(p.dir)+"/"+p.tmp, key); perr != nil {
				perr = b.d.wrap("commit", key, perr)
			} else {
				b.touch(p.dir)
				continue
			}
		}
		err = errors.Join(perr, removeTemp(p.tf, p.tmp))
	}
	b.mu.Lock()
	b.flushing = nil
	if err != nil && b.failed == nil {
		b.failed = err
	}
	b.mu.Unlock()
	return err
}

// tempFolder is the temp folder, relative to the remote, of the objects of folder dir.
func tempFolder(dir string) string {
	if dir == "" {
		return remote.TempFolder
	}
	return remote.TempFolder + "/" + dir
}

// writeTemp creates tmp in tf with data, fsynced.
func (b *Batch) writeTemp(tf *os.Root, tmp string, data []byte) error {
	f, err := b.createTemp(tf, tmp, data)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// createTemp creates tmp in tf with data, not synced, and returns it open.
func (b *Batch) createTemp(tf *os.Root, tmp string, data []byte) (*os.File, error) {
	f, err := tf.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, b.d.opts.fileMode)
	if err != nil {
		return nil, err
	}
	var w interface{ Write([]byte) (int, error) } = f
	if b.d.opts.wrapWrite != nil {
		w = b.d.opts.wrapWrite(f)
	}
	for n := 0; n < len(data) && err == nil; n += writeChunk { // see writeChunk
		_, err = w.Write(data[n:min(len(data), n+writeChunk)])
	}
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
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
	b.ops.RLock()
	defer b.ops.RUnlock()
	if b.fs != nil {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
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

// Close closes the batch's folders and throws away the puts still waiting for a flush
// (their temp files are removed; nothing may count on them without a Barrier). It implies
// no barrier.
func (b *Batch) Close() error {
	b.ops.Lock() // no Stat, Put, flush or Barrier under way
	defer b.ops.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var errs []error
	for _, p := range b.pending { // never named: nothing counts on them
		errs = append(errs, p.f.Close(), removeTemp(p.tf, p.tmp))
	}
	clear(b.pending)
	if b.fs != nil {
		errs = append(errs, b.fs.Close())
	}
	for _, r := range b.folders {
		errs = append(errs, r.Close())
	}
	return errors.Join(append(errs, b.top.Close())...)
}
