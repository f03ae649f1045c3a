package restore

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/repo"
)

// TestPointFailure: a restore point's own damage is final; a read of the
// repository cut short (an HTTP body ending early, a reset) is retried.
func TestPointFailure(t *testing.T) {
	id, err := catalog.ParseID("nfs:xbr-repo/0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f/20261206T020000Z")
	if err != nil {
		t.Fatal(err)
	}
	xerr := errors.New("import aborted")
	for _, c := range []struct {
		berr  error
		retry bool
	}{
		{fmt.Errorf("chunk: %w: content hashes to 00", repo.ErrCorrupt), false},
		{fmt.Errorf("disk 0: %w", repo.ErrDiskDigest), false},
		{fmt.Errorf("chunk: %w", remote.ErrNotFound), false},
		{fmt.Errorf("manifest: read: %w", io.ErrUnexpectedEOF), true},
		{fmt.Errorf("manifest: read: %w", syscall.ECONNRESET), true},
	} {
		if got := isRetryable(pointFailure(id, c.berr, xerr)); got != c.retry {
			t.Errorf("pointFailure(%v): retryable %v, want %v", c.berr, got, c.retry)
		}
	}
}
