package catalog

import (
	"context"
	"errors"
	"fmt"
)

// Deleter is what Delete needs from a remote; every remote.Remote has it.
type Deleter interface {
	Delete(ctx context.Context, key string) error
}

// Delete removes one backup: the .json first, so that the backup stops being listed at once
// and a half-finished delete never leaves a listed backup without its data, then the .xva
// and the .xva.checksum. Missing files are not an error (remote.Delete is idempotent), so a
// retried delete finishes what an interrupted one began. If the .json cannot be deleted
// nothing else is touched.
func Delete(ctx context.Context, r Deleter, id ID) error {
	if err := r.Delete(ctx, id.MetaKey()); err != nil {
		return fmt.Errorf("delete backup %s: %w", id, err)
	}
	var errs []error
	for _, key := range []string{id.DataKey(), id.ChecksumKey()} {
		if err := r.Delete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete backup %s (already unlisted): %w", id, err)
	}
	return nil
}
