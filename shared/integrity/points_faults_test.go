package integrity_test

import (
	"context"
	"strings"
	"testing"

	"xbr/shared/integrity"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

// newRepo is an empty plain repository on a fresh dir remote "nfs", and that remote.
func newRepo(t *testing.T, wrap func(remote.Remote) remote.Remote) (*repo.Repo, remote.Remote) {
	t.Helper()
	d := newRemote(t)
	return repotest.Init(t, wrap(d), repo.Key{}), d
}

func bare(r remote.Remote) remote.Remote { return r }

// ids is the backup ids of res, in order.
func ids(res []integrity.Result) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.ID.String())
	}
	return out
}

// pointID is the backup id of the restore point of vm at repotest.T0 on remote "nfs".
func pointID(vm string) string {
	return "nfs:" + repo.Root + "/" + vm + "/" + repotest.T0.Format("20060102T150405Z")
}

// onChunkList runs hook once, at the first listing of a chunk shard: a verify then has
// read the manifests and checks chunks. A commit between the two cannot be had on cue
// from a real remote.
type onChunkList struct {
	remote.Remote
	hook func()
}

func (o *onChunkList) List(ctx context.Context, prefix string) ([]remote.Info, error) {
	if h := o.hook; h != nil && strings.HasPrefix(prefix, repo.Root+"/chunks/") {
		o.hook = nil
		h()
	}
	return o.Remote.List(ctx, prefix)
}

// A restore point committed while a verify runs, after it read the manifests, was not
// checked: it is not reported, least of all as verified.
func TestPointCommittedDuringVerifyIsNotReported(t *testing.T) {
	ctx := context.Background()
	hook := &onChunkList{}
	rp, d := newRepo(t, func(r remote.Remote) remote.Remote { hook.Remote = r; return hook })
	repotest.WritePoint(t, rp, repotest.VMA, repotest.T0, repotest.DiskImage(1, 6*repotest.ChunkSize))
	other, err := repo.Open(ctx, d, repo.Key{})
	if err != nil {
		t.Fatal(err)
	}
	hook.hook = func() {
		repotest.WritePoint(t, other, repotest.VMB, repotest.T0, repotest.DiskImage(2, 6*repotest.ChunkSize))
	}
	res, err := integrity.Points(ctx, rp, "nfs", integrity.Options{Deep: true})
	if err != nil || len(res) != 1 || res[0].ID.String() != pointID(repotest.VMA) || !res[0].OK() {
		t.Fatalf("verify beside a commit = %v, %v; want %s alone, sound", ids(res), err, pointID(repotest.VMA))
	}
}
