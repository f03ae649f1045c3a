package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote"
	"xbr/shared/remote/remotetest"
)

// largestListing records the most objects (and folders) one listing of the remote returned.
type largestListing struct {
	remote.Remote
	most int
}

func (l *largestListing) List(ctx context.Context, prefix string) ([]remote.Info, error) {
	infos, err := l.Remote.List(ctx, prefix)
	l.most = max(l.most, len(infos))
	return infos, err
}

// ListFolder is the wrapped remote's one-level listing; what it holds counts.
func (l *largestListing) ListFolder(ctx context.Context, folder string) ([]remote.Info, []string, error) {
	objects, folders, err := l.Remote.(remote.FolderLister).ListFolder(ctx, folder)
	l.most = max(l.most, len(objects)+len(folders))
	return objects, folders, err
}

// putXOBlocks writes n block files of a VHD-directory delta backup of Xen Orchestra in vm's
// folder (vdis/<job>/<vdi>/data/<uuid>.vhd/blocks/<id/1000>/<id%1000>), as XO writes them
// on S3 or on an encrypted remote: one object per 2 MiB block, some 500,000 per TiB of disk.
func putXOBlocks(t *testing.T, r remote.Remote, vm string, n int) {
	t.Helper()
	vhd := catalog.VMPrefix(vm) + "vdis/6a1d1f0e-2b3c-4d5e-8f90-a1b2c3d4e5f6/7b2e2a1f-3c4d-4e5f-9a01-b2c3d4e5f6a7/" +
		"data/8c3f3b20-4d5e-4f60-8b12-c3d4e5f6a7b8.vhd"
	for _, f := range []string{"header", "footer", "bat", "chunk-filters.json"} {
		remotetest.PutBytes(t, r, vhd+"/"+f, []byte(f))
	}
	for i := range n {
		remotetest.PutBytes(t, r, fmt.Sprintf("%s/blocks/%d/%d", vhd, i/64, i), []byte("b"))
	}
}

// TestListAndRefreshHoldNoXOBlock: a listing of backups (every VM's, or one VM's) and the
// refresh of a VM's cache.json.gz only need the files directly in each VM folder, but they
// listed the folders recursively: on a remote shared with Xen Orchestra that holds every
// block file of XO's VHD-directory delta backups under vdis/ at once, on every listing,
// prune and backup. Here 512 XO blocks beside two xbr backups: no listing may hold more
// than the handful of files at the top of the folder.
func TestListAndRefreshHoldNoXOBlock(t *testing.T) {
	ctx := context.Background()
	d := newDir(t, "nfs")
	first := put(t, d, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0, xbr: true})
	catalogtest.WriteXOCache(t, d, vmA)
	putXOBlocks(t, d, vmA, 512)
	second := put(t, d, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Hour), xbr: true})
	want := []string{second.String(), first.String()}
	const bound = 8 // two backups (.json, .xva), the cache, the vdis folder

	for _, f := range []catalog.Filter{{}, {VM: vmA}} {
		l := &largestListing{Remote: d}
		got, problems, err := catalog.List(ctx, l, f)
		if err != nil || len(problems) > 0 || !slices.Equal(idStrings(got), want) {
			t.Fatalf("filter %+v: listed %v, problems %v, %v", f, idStrings(got), problems, err)
		}
		if l.most > bound {
			t.Errorf("filter %+v: one listing held %d objects: the listing holds every block of XO's delta backups", f, l.most)
		}
	}

	l := &largestListing{Remote: d}
	if err := catalog.RefreshCache(ctx, l, vmA); err != nil {
		t.Fatal(err)
	}
	assertXOSeesDisk(t, d, vmA, true)
	if l.most > bound {
		t.Errorf("RefreshCache: one listing held %d objects: it holds every block of XO's delta backups", l.most)
	}
}
