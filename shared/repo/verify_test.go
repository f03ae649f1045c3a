package repo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
