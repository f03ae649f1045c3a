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
}

// WithModes sets the permission bits of new files and folders (default 0644 and 0755, less
// the umask).
func WithModes(file, dir fs.FileMode) Option {
	return func(o *options) { o.fileMode, o.dirMode = file, dir }
}

// New returns the remote called name stored under root, which must be an existing directory.
func New(name, root string, opts ...Option) (*Dir, error) {
	o := options{fileMode: 0o644, dirMode: 0o755}
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

func (d *Dir) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// Open streams the object under key.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := d.check(ctx, "open", key); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if err != nil {
		return nil, d.wrap("open", key, err)
	}
	st, err := f.Stat()
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
	st, err := os.Stat(d.path(key))
	if err == nil && !st.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return remote.Info{}, d.wrap("stat", key, err)
	}
	return remote.Info{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete removes the object under key; a missing key is not an error. Folders are kept.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := d.check(ctx, "delete", key); err != nil {
		return err
	}
	p := d.path(key)
	st, err := os.Lstat(p)
	if err == nil && st.IsDir() {
		return fmt.Errorf("remote %s: delete %s: is a folder, not an object", d.name, key)
	}
	err = os.Remove(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return d.wrap("delete", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return d.wrap("delete", key, err)
	}
	return nil
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
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("remote %s: %s %s: %w", d.name, op, key, remote.ErrNotFound)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("remote %s: %s %s: %w (%w)", d.name, op, key, remote.ErrNoSpace, err)
	}
	return fmt.Errorf("remote %s: %s %s: %w", d.name, op, key, err)
}

// syncDir fsyncs a folder so that renames and new entries in it survive a crash.
func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	err = f.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil // some file systems cannot sync a folder; the rename is all they offer
	}
	return errors.Join(err, f.Close())
}
