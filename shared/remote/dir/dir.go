package dir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"xbr/shared/remote"
)

var (
	_ remote.Remote  = (*Dir)(nil)
	_ remote.Sweeper = (*Dir)(nil)
)

// Dir is a remote stored under a root directory.
type Dir struct {
	name string
	root string
	opts options
}

// Option tunes a Dir.
type Option func(*options)

type options struct {
	fileMode fs.FileMode
	dirMode  fs.FileMode
	// wrapWrite, when set, stands between an upload and its temp file (fault injection).
	wrapWrite func(io.Writer) io.Writer
	// syncHook, when set, runs before a Batch's folder fsync; its error fails Barrier.
	syncHook func() error
	// fsSyncHook, when set, runs between a Batch's file-system sync of its waiting puts and
	// their fsyncs; its error fails the flush as a failed fsync would.
	fsSyncHook func() error
	// lockStale, lockUpdate and lockPoll time Lock (XO's values; shorter in tests).
	lockStale, lockUpdate, lockPoll time.Duration
}

// WithModes sets the permission bits of new files and folders (default 0644 and 0755, less
// the umask).
func WithModes(file, dir fs.FileMode) Option {
	return func(o *options) { o.fileMode, o.dirMode = file, dir }
}

// New returns the remote called name stored under root, which must be an existing directory.
func New(name, root string, opts ...Option) (*Dir, error) {
	o := options{fileMode: 0o644, dirMode: 0o755, lockStale: lockStale, lockUpdate: lockUpdate, lockPoll: lockPoll}
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("remote %s: path %q: %w", name, root, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("remote %s: path %q: %w", name, root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("remote %s: path %q: not a directory", name, root)
	}
	return &Dir{name: name, root: abs, opts: o}, nil
}

// Name returns the remote's name.
func (d *Dir) Name() string { return d.name }

// Root returns the absolute root directory.
func (d *Dir) Root() string { return d.root }

// Open streams the object under key. The file is checked to be a plain file before it is
// opened, so a FIFO or a device planted under a key is never opened.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := d.check(ctx, "open", key); err != nil {
		return nil, err
	}
	p, err := d.locate(key, false)
	if err != nil {
		return nil, d.wrap("open", key, err)
	}
	defer p.close()
	fi, err := p.file()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return nil, d.wrap("open", key, err)
	}
	f, err := p.folder.Open(p.base)
	if err != nil {
		return nil, d.wrap("open", key, err)
	}
	st, err := f.Stat() // it may have been replaced since the check (a Commit, or worse)
	if err == nil && !st.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, d.wrap("open", key, err)
	}
	return f, nil
}

// Stat describes the object under key.
func (d *Dir) Stat(ctx context.Context, key string) (remote.Info, error) {
	if err := d.check(ctx, "stat", key); err != nil {
		return remote.Info{}, err
	}
	p, err := d.locate(key, false)
	if err != nil {
		return remote.Info{}, d.wrap("stat", key, err)
	}
	defer p.close()
	fi, err := p.file()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return remote.Info{}, d.wrap("stat", key, err)
	}
	return remote.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes the object under key; a missing key is not an error. Folders are kept.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := d.check(ctx, "delete", key); err != nil {
		return err
	}
	p, err := d.locate(key, false)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return d.wrap("delete", key, err)
	}
	defer p.close()
	return d.remove(p, "delete", key)
}

// remove deletes the last segment of p, a file, and fsyncs its folder.
func (d *Dir) remove(p *place, op, key string) error {
	fi, err := p.file()
	if isMissing(err) {
		return nil
	}
	if err == nil && fi.IsDir() {
		return fmt.Errorf("remote %s: %s %s: is a folder, not an object", d.name, op, key)
	}
	if err == nil {
		err = p.folder.Remove(p.base)
	}
	if err == nil || isMissing(err) {
		err = syncFolder(p.folder)
	}
	if err != nil {
		return d.wrap(op, key, err)
	}
	return nil
}

func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// check validates key and ctx before an operation.
func (d *Dir) check(ctx context.Context, op, key string) error {
	if err := remote.ValidateKey(key); err != nil {
		return fmt.Errorf("remote %s: %s: %w", d.name, op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remote %s: %s %s: %w", d.name, op, key, err)
	}
	return nil
}

// wrap names the remote, operation and key, and maps OS errors to the remote sentinels.
func (d *Dir) wrap(op, key string, err error) error {
	var link *linkError
	switch {
	case errors.As(err, &link):
		return fmt.Errorf("remote %s: %s %s: %w: %w", d.name, op, key, remote.ErrNotFound, link)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("remote %s: %s %s: %w", d.name, op, key, remote.ErrNotFound)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("remote %s: %s %s: %w (%w)", d.name, op, key, remote.ErrNoSpace, err)
	}
	return fmt.Errorf("remote %s: %s %s: %w", d.name, op, key, err)
}

var _ remote.FolderRemover = (*Dir)(nil)

// RemoveEmptyFolder removes the folder key if it is empty, and fsyncs its
// parent. A missing folder is not an error; one that is not empty is.
func (d *Dir) RemoveEmptyFolder(ctx context.Context, key string) error {
	if err := d.check(ctx, "remove folder", key); err != nil {
		return err
	}
	p, err := d.locate(key, false)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return d.wrap("remove folder", key, err)
	}
	defer p.close()
	fi, err := p.file()
	if isMissing(err) {
		return nil
	}
	if err == nil && !fi.IsDir() {
		return fmt.Errorf("remote %s: remove folder %s: is an object, not a folder", d.name, key)
	}
	if err == nil {
		err = p.folder.Remove(p.base)
	}
	if err == nil || isMissing(err) {
		err = syncFolder(p.folder)
	}
	if err != nil {
		return d.wrap("remove folder", key, err)
	}
	return nil
}
