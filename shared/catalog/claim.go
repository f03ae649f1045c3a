package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"xbr/shared/remote"
)

// ClaimsFolder is the hidden folder under Root where a writer claims a backup's timestamp
// before writing its files: "xo-vm-backups/.xbr-claims/<vm-uuid>.<timestamp>". On S3 there
// is no VM-folder lock, so two writers of one VM in the same second would otherwise write
// the same keys. Xen Orchestra skips dot-entries of xo-vm-backups/ (listAllVms) and its
// cleanVm only looks inside VM folders; List and the sweeps here match only VM folders'
// files. The folder holds one small object per backup being written, no more.
const ClaimsFolder = Root + ".xbr-claims/"

// ErrClaimed: another writer holds the claim of this timestamp (it wraps remote.ErrExists).
var ErrClaimed = fmt.Errorf("timestamp claimed by another writer: %w", remote.ErrExists)

// ClaimKey is the key of the claim of id's timestamp: "xo-vm-backups/.xbr-claims/<uuid>.<ts>".
func (id ID) ClaimKey() string {
	id.base() // a repository point has no full-backup files to claim: panic as they do
	return ClaimsFolder + id.VM + "." + id.Timestamp()
}

// ParseClaimKey recognises a key ClaimKey gives; other keys are not claims.
func ParseClaimKey(remoteName, key string) (ID, bool) {
	rest, ok := strings.CutPrefix(key, ClaimsFolder)
	if !ok {
		return ID{}, false
	}
	return splitID(remoteName, rest, ".")
}

// Claim claims id's timestamp on r for owner (a run id, kept in the claim for whoever looks
// at it), atomically against every other writer where r can (remote.PutNew: If-None-Match
// on S3, a hard link on a directory): of writers racing for one timestamp exactly one gets
// nil, the others an error wrapping ErrClaimed. The holder writes the backup and then
// releases the claim (ReleaseClaim), committed or not. A claim is never taken over, however
// old: the next writer takes the next second, and a claim left by a crash is removed by its
// writer's next attempt or, once old, by the sweep.
func Claim(ctx context.Context, r remote.Remote, id ID, owner string) error {
	err := remote.PutNew(ctx, r, id.ClaimKey(), []byte(owner))
	switch {
	case errors.Is(err, remote.ErrExists):
		return fmt.Errorf("claim backup %s: %w", id, ErrClaimed)
	case err != nil:
		return fmt.Errorf("claim backup %s: %w", id, err)
	}
	return nil
}

// ReleaseClaim removes the claim of id's timestamp; a missing claim is not an error.
func ReleaseClaim(ctx context.Context, r Deleter, id ID) error {
	if err := r.Delete(ctx, id.ClaimKey()); err != nil {
		return fmt.Errorf("release the claim of backup %s: %w", id, err)
	}
	return nil
}

// ClaimOwner reads the owner Claim recorded in the claim of id's timestamp;
// an error wrapping remote.ErrNotFound means no claim.
func ClaimOwner(ctx context.Context, r remote.Remote, id ID) (string, error) {
	rc, err := r.Open(ctx, id.ClaimKey())
	if err != nil {
		return "", fmt.Errorf("read the claim of backup %s: %w", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1024))
	if err != nil {
		return "", fmt.Errorf("read the claim of backup %s: %w", id, err)
	}
	return string(b), nil
}
