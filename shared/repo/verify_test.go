package repo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

// manifestKey is the key of the manifest of vm's restore point at t0.
func manifestKey(vm string) string {
	return repo.Root + "/vms/" + vm + "/" + t0.Format("20060102T150405Z") + ".json"
}

// A damaged manifest is reported, and the other points are checked still; GC, which
// cannot know the chunks that manifest uses, stops on it.
func TestVerifyReportsDamagedManifest(t *testing.T) {
	ctx := context.Background()
	rp := initRepo(t, newDir(t), repo.Key{})
	writePoint(t, rp, vmA, t0, diskImage(1, 6*cs))
	writePoint(t, rp, vmB, t0, diskImage(2, 6*cs))
	repotest.FlipByte(t, rp, manifestKey(vmB))
	rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true})
	if err != nil || len(rep.Points) != 1 || rep.Points[0] != (repo.Point{VM: vmA, Time: t0}) || rep.Checked != 3 {
		t.Fatalf("verify = %+v, %v; want vm A's point read and its 3 chunks checked", rep, err)
	}
	if len(rep.Damaged) != 1 || rep.Damaged[0].Point != (repo.Point{VM: vmB, Time: t0}) {
		t.Fatalf("damaged manifests %+v; want vm B's", rep.Damaged)
	}
	if msg := rep.Err(); msg == nil || !strings.Contains(msg.Error(), "manifest of restore point "+vmB) {
		t.Errorf("report error %v does not name vm B's manifest", msg)
	}
	if _, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); !errors.Is(err, repo.ErrCorrupt) {
		t.Errorf("gc with a damaged manifest: %v; want it stopped", err)
	}
}

// resetOnce fails the first Open of a chunk as a connection reset does: a network fault,
// which no real part gives on cue.
type resetOnce struct {
	remote.Remote
	done atomic.Bool
}

func (r *resetOnce) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, repo.Root+"/chunks/") && r.done.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("read %s: connection reset by peer", key)
	}
	return r.Remote.Open(ctx, key)
}

// A chunk a deep verify cannot read (the transfer fails) is not a damaged chunk: the
// verify fails with that error, as the check did not complete.
func TestDeepVerifyReadErrorIsNotDamage(t *testing.T) {
	ctx := context.Background()
	r := &resetOnce{Remote: newDir(t)}
	r.done.Store(true)
	rp := initRepo(t, r, repo.Key{})
	writePoint(t, rp, vmA, t0, diskImage(1, 6*cs))
	r.done.Store(false)
	rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true})
	if err == nil || !strings.Contains(err.Error(), "connection reset by peer") || errors.Is(err, repo.ErrCorrupt) || len(rep.Problems) != 0 {
		t.Fatalf("deep verify beside a reset = %+v, %v; want the read error and no problem", rep, err)
	}
	if rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil || rep.Checked != 3 {
		t.Fatalf("deep verify once the remote answers = %+v, %v, %v", rep, err, rep.Err())
	}
}
