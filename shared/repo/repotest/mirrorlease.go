package repotest

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

// testMirrorBaseKept: the target's point a copy relies on is deleted, and the target's GC
// runs, just as the copy reads that point's manifest (another process pruning the
// target). The GC defers to the copy's lease, taken before that read, so the chunks the
// copy did not ask about are still there when its manifest names them, and stay after.
func testMirrorBaseKept(t *testing.T, newRemote NewRemote, enc bool) {
	ctx := context.Background()
	var k repo.Key
	if enc {
		k = NewKey(t)
	}
	src := Init(t, newRemote(t), k)
	a := DiskImage(40, 8*cs)
	a2 := bytes.Clone(a)
	copy(a2[6*cs:7*cs], DiskImage(41, cs))
	p1, p2 := repo.Point{VM: VMA, Time: T0}, repo.Point{VM: VMA, Time: T0.Add(time.Hour)}
	WritePoint(t, src, VMA, p1.Time, a)
	WritePoint(t, src, VMA, p2.Time, a2)

	r := newRemote(t)
	h := &openHook{Remote: r, key: repo.Root + "/vms/" + p1.String() + ".json"}
	dst, err := repo.InitMirror(ctx, h, src, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CopyPoint(ctx, src, dst, p1); err != nil {
		t.Fatal(err)
	}
	other, err := repo.Open(ctx, r, k) // another process on the target
	if err != nil {
		t.Fatal(err)
	}
	var gc repo.GCReport
	h.hook = func() {
		err := other.Delete(ctx, p1)
		if err == nil {
			gc, err = other.GC(ctx, repo.GCOptions{Grace: -1})
		}
		if err != nil {
			t.Errorf("delete %s and collect the target during the copy: %v", p1, err)
		}
	}
	h.armed.Store(true)
	st, err := repo.CopyPoint(ctx, src, dst, p2)
	if err != nil || st.ChunksCopied != 1 {
		t.Fatalf("copy %s = %+v, %v: want 1 chunk copied", p2, st, err)
	}
	if h.armed.Load() || !gc.Deferred || gc.Swept != 0 {
		t.Fatalf("the target's GC during the copy (hook run: %t): %+v; want it deferred to the copy's lease", !h.armed.Load(), gc)
	}
	for range 2 { // whole after the copy, and after a GC that runs once it has ended
		if rep, err := dst.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil || rep.Manifests != 1 {
			t.Fatalf("verify the target: %+v, %v", rep, err)
		}
		if _, err := other.GC(ctx, repo.GCOptions{Grace: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ReadDisk(t, dst, p2); err != nil || !bytes.Equal(got, a2) {
		t.Fatalf("%s on the target: %v", p2, err)
	}
}

// openHook is a remote that, once armed, runs hook when key is opened: after reading the
// object whole (which the reader is then given), so the hook may delete it.
type openHook struct {
	remote.Remote
	key   string
	armed atomic.Bool
	hook  func()
}

func (o *openHook) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := o.Remote.Open(ctx, key)
	if err != nil || key != o.key || !o.armed.CompareAndSwap(true, false) {
		return rc, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	o.hook()
	return io.NopCloser(bytes.NewReader(data)), nil
}
