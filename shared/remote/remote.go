package remote

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors; implementations wrap them with the remote's name and the key.
var (
	// ErrNotFound: the key holds no committed object.
	ErrNotFound = errors.New("not found")
	// ErrInvalidKey: the key or prefix breaks the rules of ValidateKey.
	ErrInvalidKey = errors.New("invalid key")
	// ErrNoSpace: the remote is full (ENOSPC, quota, or the service says so).
	ErrNoSpace = errors.New("no space left on the remote")
)

// Remote is one backup repository.
type Remote interface {
	// Name is the remote's configured name, used in errors and events.
	Name() string
	// Create starts writing key; nothing is visible under key until Commit succeeds.
	// sizeHint is the expected size in bytes, or -1 when unknown; it only tunes the upload
	// (S3 part size) and the stream may end up shorter or longer. ctx bounds the whole upload.
	Create(ctx context.Context, key string, sizeHint int64) (Upload, error)
	// Open streams a committed object. A missing key gives an error wrapping ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes a committed object. A missing key gives an error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// List returns the committed objects whose key starts with prefix (a plain string prefix,
	// "" for all), recursively, sorted by key. Incomplete uploads are never listed.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Upload is an object being written. It is not safe for concurrent use.
type Upload interface {
	io.Writer
	// Commit makes the written bytes visible under the key, replacing any older object.
	// If Commit fails (or ctx is done) the upload is aborted and nothing is left behind.
	Commit(ctx context.Context) error
	// Abort discards the upload. It is safe to call more than once and after Commit
	// (then it does nothing).
	Abort(ctx context.Context) error
}

// Info describes a committed object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Temp is an incomplete upload: a temp file or a pending multipart upload, left by a writer
// that is still running or that crashed.
type Temp struct {
	// Key is the key the upload was going to commit.
	Key string
	// ID identifies the leftover for RemoveTemp (a temp file path relative to the root, a
	// multipart upload id).
	ID string
	// Time is the last activity known: a temp file's modification time, a multipart upload's
	// start time. A sweeper threshold must exceed the longest upload.
	Time time.Time
}

// Sweeper lists and removes incomplete uploads. dir and s3 implement it.
type Sweeper interface {
	ListTemp(ctx context.Context, prefix string) ([]Temp, error)
	RemoveTemp(ctx context.Context, t Temp) error
}

// Sweep removes the incomplete uploads under prefix whose Time is before the given time, and
// returns those it removed. It keeps going after a failed removal and joins the errors.
func Sweep(ctx context.Context, s Sweeper, prefix string, before time.Time) ([]Temp, error) {
	temps, err := s.ListTemp(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var removed []Temp
	var errs []error
	for _, t := range temps {
		if !t.Time.Before(before) {
			continue
		}
		if err := s.RemoveTemp(ctx, t); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, t)
	}
	return removed, errors.Join(errs...)
}

// Locker is a remote that can lock a folder against Xen Orchestra and other xbr processes,
// the way XO locks a VM folder (proper-lockfile: the folder "<folder>.lock" beside it). dir
// implements it; on S3 XO's lock is a no-op, and so is LockFolder.
type Locker interface {
	// Lock waits until it holds folder's lock (or ctx is done) and keeps it fresh until
	// unlock is called. unlock releases it; its error says the lock was lost meanwhile.
	Lock(ctx context.Context, folder string) (unlock func() error, err error)
}

// LockFolder locks folder on r when r is a Locker, and does nothing otherwise.
func LockFolder(ctx context.Context, r any, folder string) (unlock func() error, err error) {
	if l, ok := r.(Locker); ok {
		return l.Lock(ctx, folder)
	}
	return func() error { return nil }, nil
}

// FolderRemover is a remote with folders (dir) that can remove an empty
// one, e.g. a backup folder whose files were all deleted, which Xen
// Orchestra would otherwise still count as a backup (it lists folders).
// An S3 remote has no folders.
type FolderRemover interface {
	// RemoveEmptyFolder removes the folder key if it is empty; a missing
	// folder is not an error, a folder that is not empty is.
	RemoveEmptyFolder(ctx context.Context, key string) error
}

// RemoveEmptyFolder removes the empty folder key on r when r has folders,
// and does nothing otherwise.
func RemoveEmptyFolder(ctx context.Context, r any, key string) error {
	if fr, ok := r.(FolderRemover); ok {
		return fr.RemoveEmptyFolder(ctx, key)
	}
	return nil
}
