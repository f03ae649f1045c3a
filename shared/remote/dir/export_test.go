package dir

import (
	"io"
	"os"
	"time"
)

// WithWriteHook puts wrap between every upload and its temp file (fault injection in tests).
func WithWriteHook(wrap func(io.Writer) io.Writer) Option {
	return func(o *options) { o.wrapWrite = wrap }
}

// WithLockTiming shortens Lock's timings for tests.
func WithLockTiming(stale, update, poll time.Duration) Option {
	return func(o *options) { o.lockStale, o.lockUpdate, o.lockPoll = stale, update, poll }
}

// WithSyncHook runs hook before each folder fsync of a Batch's Barrier (fault injection).
func WithSyncHook(hook func() error) Option {
	return func(o *options) { o.syncHook = hook }
}

// WithFSSyncHook runs hook in each flush of a Batch's waiting puts, before their fsyncs;
// its error fails the flush (fault injection).
func WithFSSyncHook(hook func() error) Option {
	return func(o *options) { o.fsSyncHook = hook }
}

// DefersPuts says a Batch here defers its puts to a file-system sync (Linux).
const DefersPuts = canSyncFS

// MaxPending is how many deferred puts wait before a flush.
const MaxPending = maxPending

// FailSyncFS makes every file-system sync of a Batch fail with err until the test ends,
// as a writeback error of another program on the same file system would.
func FailSyncFS(t interface{ Cleanup(func()) }, err error) {
	old := syncFS
	syncFS = func(*os.File) error { return err }
	t.Cleanup(func() { syncFS = old })
}
