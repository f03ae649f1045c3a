package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/runs"
)

// vmLocks are the VM folder's locks an attempt holds on its remotes
// (lockVM). A lock can be lost while held: xbr's refresh came more than
// 10 s late (a stalled NFS server) and Xen Orchestra took the lock over. The
// folder is XO's from then on: its backup and its cleanVm run there, and the
// attempt must write nothing more into it.
type vmLocks struct {
	w      *Worker
	vmUUID string
	names  []string // the remotes' names, in the order the locks were taken
	held   []remote.Held
}

// lockWaiting is lockVM for job j, keeping j's run alive while it waits
// (runs.Hold.Keep): XO's backup of the VM may hold a lock for hours, and a
// run that renews nothing would be taken over as stale by the job's next
// fire. The wait is bounded by ctx, which carries the VM's timeout if the
// job has one; a run taken over meanwhile ends it (ctx is the hold's).
func (w *Worker) lockWaiting(ctx context.Context, j *job, rems []remote.Remote) (*vmLocks, error) {
	stop := j.hold.Keep(w.d.Log)
	locks, err := w.lockVM(ctx, rems, j.req.VMUUID)
	stop()
	if lost := runs.Lost(ctx); lost != nil {
		if err == nil {
			locks.unlock()
		}
		return nil, fmt.Errorf("while waiting for the VM folder's lock: %w", lost)
	}
	return locks, err
}

// lockVM takes the VM folder's lock on every remote that has one (a
// directory: Xen Orchestra's lock, see remote.Locker), waiting while XO or
// another xbr process holds it. Locks are taken in the order of the
// remotes' names, whatever the job's order, so two exports of the VM whose
// jobs list the same remotes in another order never hold one lock each
// while waiting for the other's.
func (w *Worker) lockVM(ctx context.Context, rems []remote.Remote, vmUUID string) (*vmLocks, error) {
	rems = slices.SortedFunc(slices.Values(rems), func(a, b remote.Remote) int { return strings.Compare(a.Name(), b.Name()) })
	l := &vmLocks{w: w, vmUUID: vmUUID}
	for _, r := range rems {
		h, err := catalog.LockVM(ctx, r, vmUUID)
		if err != nil {
			l.unlock()
			return nil, fmt.Errorf("remote %s: lock the VM folder: %w", r.Name(), err)
		}
		l.names, l.held = append(l.names, r.Name()), append(l.held, h)
	}
	return l, nil
}

// unlock releases every lock; a loss is logged.
func (l *vmLocks) unlock() {
	for i, h := range l.held {
		if err := h.Unlock(); err != nil {
			l.w.d.Log.Warn("VM folder lock", "remote", l.names[i], "vm_uuid", l.vmUUID, "error", err)
		}
	}
}

// check looks at every lock right before the attempt changes what XO sees
// in the VM folders (its data renamed into place, its .checksum and .json):
// a lock lost meanwhile fails the attempt, and nothing more is written.
func (l *vmLocks) check(ctx context.Context) error {
	for _, h := range l.held {
		if err := h.Check(ctx); err != nil {
			return lostLock(err)
		}
	}
	return nil
}

// watch returns ctx cancelled, with the loss as its cause, as soon as the
// refresh of any lock finds it lost, so that the attempt stops streaming
// into a folder it no longer holds. stop ends the watch.
func (l *vmLocks) watch(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	for i, h := range l.held {
		go func() {
			select {
			case <-h.Lost():
				err := h.Check(context.WithoutCancel(ctx))
				if err == nil { // a Locker breaking its contract: lost, yet no error
					err = fmt.Errorf("remote %s: %w", l.names[i], remote.ErrLockLost)
				}
				cancel(lostLock(err))
			case <-ctx.Done():
			}
		}()
	}
	return ctx, func() { cancel(context.Canceled) }
}

// kept are the remotes of rems whose lock was not lost: only there may an
// attempt remove what it committed. Where the lock was lost its files are
// left for the folder's sweeps: XO's cleanVm (an .xva without its .json is
// an orphan it deletes, under its own lock) or the run's next attempt
// (sweep, under xbr's lock). Removing them from a folder XO holds would
// change it under XO's backup and cleanVm.
func (l *vmLocks) kept(rems []remote.Remote) []remote.Remote {
	lost := map[string]bool{}
	for i, h := range l.held {
		select {
		case <-h.Lost():
			lost[l.names[i]] = true
		default:
		}
	}
	return slices.DeleteFunc(slices.Clone(rems), func(r remote.Remote) bool { return lost[r.Name()] })
}

// holding checks every lock now (Check) and returns the remotes of rems
// whose lock is still xbr's: the backup is committed, and only there may
// XO's cache be refreshed. A loss is logged (XO rebuilds its cache of a
// folder it holds).
func (l *vmLocks) holding(ctx context.Context, rems []remote.Remote) []remote.Remote {
	for i, h := range l.held {
		if err := h.Check(ctx); err != nil {
			l.w.d.Log.Warn("VM folder lock lost after the commit: XO's backup cache there is left to XO",
				"remote", l.names[i], "vm_uuid", l.vmUUID, "error", err)
		}
	}
	return l.kept(rems)
}

// lostLock says what a lost lock means for the attempt.
func lostLock(err error) error {
	return fmt.Errorf("VM folder lock lost (Xen Orchestra may hold the folder now); the attempt writes nothing more there: %w", err)
}

// lockLost returns the loss that cancelled ctx (watch), nil when none did.
func lockLost(ctx context.Context) error {
	if err := context.Cause(ctx); errors.Is(err, remote.ErrLockLost) {
		return err
	}
	return nil
}
