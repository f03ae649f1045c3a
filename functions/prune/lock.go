package prune

import (
	"context"
	"errors"
	"fmt"

	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// lockedFolder is a VM folder prune changes under its lock (catalog.LockVM:
// Xen Orchestra's, on a directory remote). The lock can be lost while held:
// xbr's refresh came more than 10 s late (a stalled NFS server) and XO took
// it over. The folder is XO's from then on, its backup and its cleanVm run
// there, and prune changes nothing more in it: every deletion and the write
// of XO's cache come right after a check of the lock.
type lockedFolder struct {
	r    remote.Remote
	held remote.Held
	vm   string
	// left is set by the first failed check: why nothing more is changed here.
	left error
}

// lockFolder takes the lock of vm's folder on r, waiting while XO or another
// xbr process holds it.
func lockFolder(ctx context.Context, r remote.Remote, vm string) (*lockedFolder, error) {
	held, err := catalog.LockVM(ctx, r, vm)
	if err != nil {
		return nil, fmt.Errorf("lock the VM folder: %w", err)
	}
	return &lockedFolder{r: r, held: held, vm: vm}, nil
}

// check looks at the lock right before a change of the folder: nil while it
// is still xbr's, else why the folder is left alone, naming the remote and
// the VM. Once a check failed, every later one returns the same error.
func (f *lockedFolder) check(ctx context.Context) error {
	if f.left != nil {
		return f.left
	}
	err := f.held.Check(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, remote.ErrLockLost):
		f.left = fmt.Errorf("remote %s, VM %s: the VM folder's lock was lost, Xen Orchestra may hold the folder now; "+
			"prune changes nothing more there: %w", f.r.Name(), f.vm, err)
	default:
		f.left = fmt.Errorf("remote %s, VM %s: check the VM folder's lock: %w", f.r.Name(), f.vm, err)
	}
	return f.left
}

// unlock releases the lock. A loss it reports that a check already reported
// is not repeated.
func (f *lockedFolder) unlock() error {
	err := f.held.Unlock()
	if f.left != nil && errors.Is(err, remote.ErrLockLost) {
		return nil
	}
	return err
}

// refreshCache makes Xen Orchestra's cache.json.gz of the folder tell the
// truth after deletions (see catalog.RefreshCache), right after a check of
// the lock. A failure of the refresh is logged; a failed check is returned,
// unless an earlier check returned it already: the cache is left alone then.
func (p *Pruner) refreshCache(ctx context.Context, f *lockedFolder) error {
	if f.left != nil {
		return nil
	}
	if err := f.check(ctx); err != nil {
		return err
	}
	if err := catalog.RefreshCache(ctx, f.r, f.vm); err != nil {
		p.o.Log.Error("XO's backup cache not refreshed", "remote", f.r.Name(), "vm_uuid", f.vm, "err", err)
	}
	return nil
}
