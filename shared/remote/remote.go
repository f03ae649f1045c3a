package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Sentinel errors; implementations wrap them with the remote's name and the key.
var (
	// ErrNotFound: the key holds no committed object.
	ErrNotFound = errors.New("not found")
	// ErrExists: PutNew found an object under the key already.
	ErrExists = errors.New("exists already")
	// ErrInvalidKey: the key or prefix breaks the rules of ValidateKey.
	ErrInvalidKey = errors.New("invalid key")
	// ErrNoSpace: the remote is full (ENOSPC, quota, or the service says so).
	ErrNoSpace = errors.New("no space left on the remote")
	// ErrLockLost: a folder lock (Locker) was removed or taken over by another holder.
	ErrLockLost = errors.New("lock lost")
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
	// If Commit fails the upload is aborted and nothing is left behind. When ctx ends
	// during Commit, the result says what happened: nil only if the object is visible.
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

// Walker is a Remote that hands over its committed objects under prefix one at a time, in
// no particular order, so that a caller summing a whole remote (the usage measure) holds
// none of them: List holds them all, sorted. fn must not call the remote.
type Walker interface {
	Walk(ctx context.Context, prefix string, fn func(Info)) error
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
	// the lock is released (Held.Unlock).
	Lock(ctx context.Context, folder string) (Held, error)
}

// Held is a folder lock a Locker holds for its caller. A lock may be lost while held: its
// refresh came too late (a stalled file system) and another holder, XO, judged it stale and
// took it over. From then on the folder is the other holder's, and whatever the caller
// meant to do under the lock must not be done.
type Held interface {
	// Check looks at the lock now: nil while it is still the caller's (it is renewed then),
	// an error wrapping ErrLockLost once it was lost. A caller checks it right before each
	// change that the lock must cover.
	Check(ctx context.Context) error
	// Lost is closed once the lock is found lost (by its refresh or by Check).
	Lost() <-chan struct{}
	// Unlock releases the lock, never another holder's; its error says the lock was lost
	// meanwhile. Only the first call does anything.
	Unlock() error
}

// LockFolder locks folder on r when r is a Locker, and does nothing otherwise (the Held it
// returns is never lost).
func LockFolder(ctx context.Context, r any, folder string) (Held, error) {
	if l, ok := r.(Locker); ok {
		return l.Lock(ctx, folder)
	}
	return noLock{}, nil
}

// noLock is the lock of a remote without locks.
type noLock struct{}

func (noLock) Check(context.Context) error { return nil }
func (noLock) Lost() <-chan struct{}       { return nil }
func (noLock) Unlock() error               { return nil }

// NewPutter is a remote that stores a small object only where none exists yet, atomically
// against every other writer: of writers racing for one key exactly one succeeds. dir links
// the finished temp file to its name; S3 sends If-None-Match: *.
type NewPutter interface {
	// PutNew writes data under key unless an object is there, which gives an error wrapping
	// ErrExists and changes nothing.
	PutNew(ctx context.Context, key string, data []byte) error
}

// PutNew writes data under key on r unless an object is there (an error wrapping
// ErrExists). Atomic when r is a NewPutter; otherwise a Stat, then a write, which two
// writers can both pass.
func PutNew(ctx context.Context, r Remote, key string, data []byte) error {
	if p, ok := r.(NewPutter); ok {
		return p.PutNew(ctx, key, data)
	}
	return StatThenPut(ctx, r, key, data)
}

// StatThenPut is PutNew for a remote that cannot do it atomically: a Stat, then a write,
// which two writers can both pass.
func StatThenPut(ctx context.Context, r Remote, key string, data []byte) error {
	if _, err := r.Stat(ctx, key); err == nil {
		return fmt.Errorf("remote %s: %s: %w", r.Name(), key, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return Put(ctx, r, key, data)
}

// Put writes data under key on r, whole or not at all, replacing any object there.
func Put(ctx context.Context, r Remote, key string, data []byte) error {
	u, err := r.Create(ctx, key, int64(len(data)))
	if err != nil {
		return err
	}
	defer u.Abort(ctx)
	if _, err := u.Write(data); err != nil {
		return err
	}
	return u.Commit(ctx)
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

// Batcher is a remote that stores many small objects (a repository's chunks) faster when
// the durability of their names may wait for one barrier: dir keeps the folders open,
// makes many objects' content durable with one sync, and fsyncs each touched folder once
// at Barrier instead of once per object. S3 does not
// implement it: a completed upload is durable, so NewBatch's plain batch is all it needs.
type Batcher interface {
	// NewBatch starts a batch. Close releases it.
	NewBatch(ctx context.Context) (Batch, error)
}

// Batch writes and finds objects whose names become durable at Barrier. It is safe for
// concurrent use. The rule it serves: every object a commit marker (a manifest) will name
// must be durable before the marker is written, so the caller writes the marker only after
// Barrier returned nil.
type Batch interface {
	// Stat is Remote.Stat, and also finds this batch's puts not yet named. An object it
	// finds counts as touched: Barrier makes its name durable too, since another writer's
	// batch may not have reached its own barrier.
	Stat(ctx context.Context, key string) (Info, error)
	// Put writes data under key, whole or absent, replacing any older object. The batch's
	// Stat finds it at once; other readers may not until Barrier. Its name never appears
	// before its content is durable, and it is named, durably, once Barrier returns nil. Put
	// keeps no reference to data once it returns: the caller reuses the buffer (repo's
	// pooled sealed chunks).
	Put(ctx context.Context, key string, data []byte) error
	// Barrier makes durable the names of every object Put or found by Stat in this batch
	// so far. After an error nothing is promised: the caller must not commit.
	Barrier(ctx context.Context) error
	// Close releases the batch; it implies no barrier.
	Close() error
}

// NewBatch returns r's batch when r is a Batcher, and otherwise one whose Put is Create,
// Write and Commit, and whose Barrier does nothing (every Commit is durable already).
func NewBatch(ctx context.Context, r Remote) (Batch, error) {
	if b, ok := r.(Batcher); ok {
		return b.NewBatch(ctx)
	}
	return plainBatch{r}, nil
}

type plainBatch struct{ r Remote }

func (p plainBatch) Stat(ctx context.Context, key string) (Info, error) { return p.r.Stat(ctx, key) }

func (p plainBatch) Put(ctx context.Context, key string, data []byte) error {
	u, err := p.r.Create(ctx, key, int64(len(data)))
	if err != nil {
		return err
	}
	defer u.Abort(ctx)
	if _, err := u.Write(data); err != nil {
		return err
	}
	return u.Commit(ctx)
}

func (plainBatch) Barrier(context.Context) error { return nil }
func (plainBatch) Close() error                  { return nil }
