package repotest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

// failManifests is a remote whose uploads of manifests fail while fail is set: a mirror
// cut short after its chunks, before its manifest (the injected fault a crash would be).
type failManifests struct {
	remote.Remote
	fail bool
}

var errInjected = errors.New("injected: the manifest upload failed")

func (f *failManifests) Create(ctx context.Context, key string, size int64) (remote.Upload, error) {
	if f.fail && strings.HasPrefix(key, "xbr-repo/vms/") {
		return nil, errInjected
	}
	return f.Remote.Create(ctx, key, size)
}

// testMirror copies restore points to a repository created as the source's mirror: only
// the chunks it lacks, the manifest last, idempotently; a copy cut short before its
// manifest leaves no point and nothing referenced missing, and the next copy completes it.
func testMirror(t *testing.T, newRemote NewRemote, enc bool) {
	ctx := context.Background()
	var k repo.Key
	if enc {
		k = NewKey(t)
	}
	src := Init(t, newRemote(t), k)
	a, b := DiskImage(20, 6*cs), DiskImage(21, 6*cs)
	a2 := append([]byte(nil), a...)
	copy(a2[:cs], DiskImage(22, cs)) // the second point of vm A changes its first chunk
	WritePoint(t, src, VMA, T0, a)
	WritePoint(t, src, VMA, T0.Add(time.Hour), a2)
	WritePoint(t, src, VMB, T0, b)

	target := &failManifests{Remote: newRemote(t), fail: true}
	if enc { // a target given another key is refused before anything is written
		if _, err := repo.InitMirror(ctx, target, src, NewKey(t)); !errors.Is(err, repo.ErrWrongKey) {
			t.Fatalf("mirror with another key: %v", err)
		}
	}
	dst, err := repo.InitMirror(ctx, target, src, k)
	if err != nil {
		t.Fatal(err)
	}
	p1, p2, pb := repo.Point{VM: VMA, Time: T0}, repo.Point{VM: VMA, Time: T0.Add(time.Hour)}, repo.Point{VM: VMB, Time: T0}
	if _, err := repo.CopyPoint(ctx, src, dst, p1); !errors.Is(err, errInjected) {
		t.Fatalf("copy with the manifest upload failing: %v", err)
	}
	if pts, err := dst.List(ctx, ""); err != nil || len(pts) != 0 {
		t.Fatalf("points after a cut-short copy: %v, %v", pts, err)
	}
	if rep, err := dst.Verify(ctx, repo.VerifyOptions{}); err != nil || rep.Err() != nil {
		t.Fatalf("verify after a cut-short copy: %v, %v", err, rep.Err())
	}
	target.fail = false
	want := map[repo.Point]struct {
		copied, had int
		image       []byte
	}{p1: {0, 3, a}, p2: {1, 2, a2}, pb: {3, 0, b}} // p1's chunks came with the cut-short copy
	for _, p := range []repo.Point{p1, p2, pb} {
		st, err := repo.CopyPoint(ctx, src, dst, p)
		if w := want[p]; err != nil || st.ChunksCopied != w.copied || st.ChunksHad != w.had || st.BytesCopied <= 0 {
			t.Fatalf("copy %s = %+v, %v: want %d chunks copied, %d had", p, st, err, w.copied, w.had)
		}
		if got, err := ReadDisk(t, dst, p); err != nil || Sum(got) != Sum(want[p].image) {
			t.Fatalf("%s on the target: %v", p, err)
		}
	}
	if st, err := repo.CopyPoint(ctx, src, dst, p2); err != nil || !st.Present || st.BytesCopied != 0 {
		t.Fatalf("copy again = %+v, %v: want present, nothing copied", st, err)
	}
	if rep, err := dst.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil || rep.Manifests != 3 || CountChunks(t, dst) != CountChunks(t, src) {
		t.Fatalf("verify the target: %+v, %v", rep, err)
	}
	testMirrorRefused(t, newRemote, src, k)
}

// testMirrorRefused: a target that cuts or keys chunks otherwise is refused, naming why.
func testMirrorRefused(t *testing.T, newRemote NewRemote, src *repo.Repo, k repo.Key) {
	ctx := context.Background()
	var other *repo.Repo
	var err error
	if k.IsZero() {
		other, err = repo.Init(ctx, newRemote(t), repo.InitOptions{ChunkSize: 2 * cs})
	} else {
		other, err = repo.Init(ctx, newRemote(t), repo.InitOptions{ChunkSize: cs, Key: k}) // its own salt
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = repo.CopyPoint(ctx, src, other, repo.Point{VM: VMA, Time: T0})
	if !errors.Is(err, repo.ErrIncompatible) {
		t.Fatalf("copy to an incompatible target: %v", err)
	}
	if pts, _ := other.List(ctx, ""); len(pts) != 0 {
		t.Fatalf("the incompatible target got points: %v", pts)
	}
}
