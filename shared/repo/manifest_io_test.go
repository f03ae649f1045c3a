package repo_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

// resetRemote cuts every read of a manifest short after cut bytes with err (a
// connection reset; io.ErrUnexpectedEOF, as an HTTP body cut short gives): a
// network fault, which no real part produces on cue.
type resetRemote struct {
	remote.Remote
	cut int64
	err error
}

func (r resetRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := r.Remote.Open(ctx, key)
	if err != nil || !strings.HasPrefix(key, repo.Root+"/vms/") {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, r.cut), iotest.ErrReader(r.err)), rc}, nil
}

// TestManifestReadCutShort: a manifest whose read fails part-way is a read
// error (retried by restore, failing a prune), never ErrCorrupt (final: a
// damaged point), in the clear and encrypted, wherever the read breaks.
func TestManifestReadCutShort(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		enc  bool
		fail error
	}{{false, syscall.ECONNRESET}, {true, syscall.ECONNRESET}, {false, io.ErrUnexpectedEOF}, {true, io.ErrUnexpectedEOF}} {
		enc := c.enc
		key := repo.Key{}
		if enc {
			key = mustKey(t)
		}
		r := newDir(t)
		rp := initRepo(t, r, key)
		writePoint(t, rp, vmA, t0, diskImage(1, 3*cs))
		for _, cut := range []int64{0, 10, 40, 200} {
			cr, err := repo.Open(ctx, resetRemote{Remote: r, cut: cut, err: c.fail}, key)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cr.Manifest(ctx, repo.Point{VM: vmA, Time: t0})
			if !errors.Is(err, c.fail) || errors.Is(err, repo.ErrCorrupt) {
				t.Errorf("encrypted %v, cut after %d bytes by %v: %v; want that error, not ErrCorrupt", enc, cut, c.fail, err)
			}
		}
		// Cut among the chunk ids of a longer point: reading its disk fails
		// with the reset too.
		long := t0.Add(time.Hour)
		writePoint(t, rp, vmA, long, diskImage(2, 300*cs))
		cr, err := repo.Open(ctx, resetRemote{Remote: r, cut: 8000, err: c.fail}, key)
		if err != nil {
			t.Fatal(err)
		}
		dr, err := cr.OpenDisk(ctx, repo.Point{VM: vmA, Time: long}, 0)
		if err == nil {
			_, err = io.Copy(io.Discard, dr)
			dr.Close()
		}
		if !errors.Is(err, c.fail) || errors.Is(err, repo.ErrCorrupt) {
			t.Errorf("encrypted %v, disk read cut among the chunk ids by %v: %v; want that error, not ErrCorrupt", enc, c.fail, err)
		}
	}
}
