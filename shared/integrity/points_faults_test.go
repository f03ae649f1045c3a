package integrity_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"xbr/shared/catalog"
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

// failOpen fails every Open of a key under prefix after the first pass ones, as a
// connection reset does: a network fault, which no real part gives on cue.
type failOpen struct {
	remote.Remote
	prefix string
	pass   atomic.Int64
}

func (f *failOpen) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, f.prefix) && f.pass.Add(-1) < 0 {
		return nil, fmt.Errorf("read %s: connection reset by peer", key)
	}
	return f.Remote.Open(ctx, key)
}

// A damaged manifest fails its own restore point, naming why, and every other point is
// still checked; a manifest that cannot be read (the transfer fails, whether the verify
// reads it for the chunks it names or for its digest) fails the verify instead, to be
// retried: it is not a damaged point.
func TestDamagedManifestFailsOnlyItsPoint(t *testing.T) {
	ctx := context.Background()
	manifest := repo.Root + "/vms/" + repotest.VMB + "/"
	for _, deep := range []bool{false, true} {
		rp, _ := newRepo(t, bare)
		repotest.WritePoint(t, rp, repotest.VMA, repotest.T0, repotest.DiskImage(1, 6*repotest.ChunkSize))
		repotest.WritePoint(t, rp, repotest.VMB, repotest.T0, repotest.DiskImage(2, 6*repotest.ChunkSize))
		repotest.FlipByte(t, rp, manifest+repotest.T0.Format("20060102T150405Z")+".json")
		res, err := integrity.Points(ctx, rp, "nfs", integrity.Options{Deep: deep})
		if err != nil || len(res) != 2 {
			t.Fatalf("deep %v: verify with a damaged manifest = %v, %v; want both points", deep, ids(res), err)
		}
		if !res[0].OK() || res[0].ID.String() != pointID(repotest.VMA) || res[0].SHA256 == "" {
			t.Errorf("deep %v: the sound point %s: %v", deep, res[0].ID, res[0].Err)
		}
		if r := res[1]; r.ID.String() != pointID(repotest.VMB) || !errors.Is(r.Err, integrity.ErrCorrupt) ||
			!strings.Contains(r.ErrorText(), "manifest") {
			t.Errorf("deep %v: the point with the damaged manifest %s: %v; want it corrupt, naming its manifest", deep, r.ID, r.Err)
		}
		if err := res[1].Payload("run", "job").Validate(); err != nil {
			t.Errorf("its verify.failed: %v", err)
		}
	}
	for _, pass := range []int64{0, 1, 2} { // the mark's read, the digest's two
		f := &failOpen{prefix: manifest}
		f.pass.Store(1 << 30)
		rp, _ := newRepo(t, func(r remote.Remote) remote.Remote { f.Remote = r; return f })
		repotest.WritePoint(t, rp, repotest.VMA, repotest.T0, repotest.DiskImage(1, 6*repotest.ChunkSize))
		repotest.WritePoint(t, rp, repotest.VMB, repotest.T0, repotest.DiskImage(2, 6*repotest.ChunkSize))
		f.pass.Store(pass)
		res, err := integrity.Points(ctx, rp, "nfs", integrity.Options{})
		if err == nil || !strings.Contains(err.Error(), "connection reset") || errors.Is(err, integrity.ErrCorrupt) {
			t.Errorf("manifest unreadable after %d reads: %v, %v; want the read error", pass, res, err)
		}
	}
}

// A chunk a deep verify cannot read (the transfer fails) fails the verify: the points
// using it are not reported corrupt, as the check did not complete.
func TestChunkReadErrorIsNotCorruption(t *testing.T) {
	ctx := context.Background()
	f := &failOpen{prefix: repo.Root + "/chunks/"}
	f.pass.Store(1 << 30)
	rp, _ := newRepo(t, func(r remote.Remote) remote.Remote { f.Remote = r; return f })
	repotest.WritePoint(t, rp, repotest.VMA, repotest.T0, repotest.DiskImage(1, 6*repotest.ChunkSize))
	f.pass.Store(0)
	res, err := integrity.Points(ctx, rp, "nfs", integrity.Options{Deep: true})
	if err == nil || !strings.Contains(err.Error(), "connection reset by peer") || errors.Is(err, integrity.ErrCorrupt) {
		t.Errorf("deep verify of a remote resetting = %v, %v; want the read error", res, err)
	}
	id, err := catalog.NewRepoID("nfs", repotest.VMA, repotest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if r := integrity.Point(ctx, rp, id, integrity.Options{Deep: true}); r.OK() || errors.Is(r.Err, integrity.ErrCorrupt) {
		t.Errorf("deep verify of one point, the remote resetting: %v; want the read error, not corruption", r.Err)
	}
}

// Verifying one restore point reads its manifest and its chunks alone: another VM's
// manifest that cannot be read does not fail it, and a deep check reads no other chunk.
func TestPointChecksOnlyItself(t *testing.T) {
	ctx := context.Background()
	f := &failOpen{prefix: repo.Root + "/vms/" + repotest.VMB + "/"}
	f.pass.Store(1 << 30)
	c := &repotest.CountingRemote{}
	rp, _ := newRepo(t, func(r remote.Remote) remote.Remote { f.Remote = r; c.Remote = f; return c })
	repotest.WritePoint(t, rp, repotest.VMA, repotest.T0, repotest.DiskImage(1, 6*repotest.ChunkSize))
	repotest.WritePoint(t, rp, repotest.VMB, repotest.T0, repotest.DiskImage(2, 6*repotest.ChunkSize))
	id, err := catalog.NewRepoID("nfs", repotest.VMA, repotest.T0)
	if err != nil {
		t.Fatal(err)
	}
	c.ChunkOpens.Store(0)
	if r := integrity.Point(ctx, rp, id, integrity.Options{Deep: true}); !r.OK() {
		t.Errorf("deep verify of %s: %v", id, r.Err)
	}
	if n := c.ChunkOpens.Load(); n != 3 {
		t.Errorf("deep verify of one point read %d chunks; want its 3", n)
	}
	f.pass.Store(0)
	r := integrity.Point(ctx, rp, id, integrity.Options{Deep: true})
	if !r.OK() || r.ID != id || r.SHA256 == "" {
		t.Errorf("deep verify of %s, vm B's manifest unreadable: %+v", id, r)
	}
}

// failNth fails only the nth Open of a key under prefix, as a connection reset does once.
type failNth struct {
	remote.Remote
	prefix string
	n      atomic.Int64
}

func (f *failNth) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, f.prefix) && f.n.Add(-1) == 0 {
		return nil, fmt.Errorf("read %s: connection reset by peer", key)
	}
	return f.Remote.Open(ctx, key)
}

// A point that uses a missing chunk is never reported sound: when the manifest read that
// finds where the chunk is used fails once, the verify fails with that error.
func TestMissingChunkUseReadFails(t *testing.T) {
	ctx := context.Background()
	f := &failNth{prefix: repo.Root + "/vms/"}
	rp, d := newRepo(t, func(r remote.Remote) remote.Remote { f.Remote = r; return f })
	repotest.WritePoint(t, rp, repotest.VMA, repotest.T0, repotest.DiskImage(1, 6*repotest.ChunkSize))
	infos, err := d.List(ctx, repo.Root+"/chunks/")
	if err != nil || len(infos) == 0 {
		t.Fatalf("chunks: %v, %v", infos, err)
	}
	if err := d.Delete(ctx, infos[0].Key); err != nil {
		t.Fatal(err)
	}
	f.n.Store(2) // the first read is the mark's; the second finds the missing chunk's uses
	res, err := integrity.Points(ctx, rp, "nfs", integrity.Options{})
	switch {
	case err != nil:
		if !strings.Contains(err.Error(), "connection reset by peer") {
			t.Fatalf("verify = %v; want the read error", err)
		}
	case len(res) != 1 || !errors.Is(res[0].Err, integrity.ErrCorrupt):
		t.Fatalf("a point using a missing chunk, a manifest read failing once: %v %v; want it failed, or the verify",
			ids(res), res[0].Err)
	}
}
