package catalog

import (
	"context"
	"fmt"
	"strings"

	"xbr/shared/remote"
)

// Creator is what Commit needs from a remote; every remote.Remote has it.
type Creator interface {
	Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error)
}

// Commit finishes a backup whose data file id.DataKey() is already committed on r: it
// writes <ts>.xva.checksum, "$5$$" and the SHA-256 of the stored bytes in lowercase hex (Xen
// Orchestra's format, @xen-orchestra/fs checksum.js, which reads md5, sha256 and sha512
// alike; XO itself writes md5), then the .json, the backup's commit
// marker, in XO's order. Metadata that does not describe id is refused before anything is
// written. On an error the caller removes the half backup with Delete.
//
// The caller holds the VM folder's lock where the remote has one (see remote.Locker) and
// refreshes the folder's cache afterwards (RefreshCache).
func Commit(ctx context.Context, r Creator, id ID, m Metadata, sha256hex string) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("commit backup %s: %w", id, err)
	}
	if !m.Time().Equal(id.Time) || m.VMUUID() != id.VM {
		return fmt.Errorf("commit backup %s: metadata describes %s/%s", id, m.VMUUID(), m.Basename())
	}
	data, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("commit backup %s: %w", id, err)
	}
	if err := putSmall(ctx, r, id.ChecksumKey(), []byte(FormatChecksum(sha256hex))); err != nil {
		return fmt.Errorf("commit backup %s: %w", id, err)
	}
	if err := putSmall(ctx, r, id.MetaKey(), data); err != nil {
		return fmt.Errorf("commit backup %s: %w", id, err)
	}
	return nil
}

// putSmall writes and commits one small object, aborting the upload on a failure.
func putSmall(ctx context.Context, r Creator, key string, data []byte) error {
	u, err := r.Create(ctx, key, int64(len(data)))
	if err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	if _, err = u.Write(data); err == nil {
		err = u.Commit(ctx)
	}
	if err != nil {
		_ = u.Abort(ctx)
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// LockVM takes the lock of vm's folder on r where r has one (a directory remote: Xen
// Orchestra's lock, see remote.Locker), waiting while XO or another xbr process holds it.
// Commit, Delete and RefreshCache run under it, each after a Check of the lock where it
// could have been lost meanwhile (remote.Held).
func LockVM(ctx context.Context, r any, vmUUID string) (remote.Held, error) {
	if err := ValidateVMUUID(vmUUID); err != nil {
		return nil, fmt.Errorf("lock the VM folder: %w", err)
	}
	return remote.LockFolder(ctx, r, strings.TrimSuffix(VMPrefix(vmUUID), "/"))
}
