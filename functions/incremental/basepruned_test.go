package incremental_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"xbr/events"
	"xbr/shared/remote"
)

// pruneOnFirstChunk deletes the manifest at key once armed, when the first
// chunk is stored: another job's prune of the VM (retention 1) deleting the
// point this run took as its base, while the run reads its changed blocks.
type pruneOnFirstChunk struct {
	remote.Remote
	armed *atomic.Bool
	key   *atomic.Value
}

func (p pruneOnFirstChunk) Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error) {
	if strings.Contains(key, "/chunks/") && p.armed.CompareAndSwap(true, false) {
		if err := p.Remote.Delete(ctx, p.key.Load().(string)); err != nil {
			return nil, err
		}
	}
	return p.Remote.Create(ctx, key, sizeHint)
}

// TestBasePrunedDuringRun: the base point (the VM's newest, which another
// incremental job of the same VM may prune once it commits a newer one) is
// deleted while this run reads its first disk. The second disk's writer
// opens the base manifest only then, and the VM fails ("base: … not found")
// instead of reading that disk whole: every chunk it needs is on the host.
func TestBasePrunedDuringRun(t *testing.T) {
	var armed atomic.Bool
	var key atomic.Value
	wrapRemote = func(r remote.Remote) remote.Remote { return pruneOnFirstChunk{Remote: r, armed: &armed, key: &key} }
	t.Cleanup(func() { wrapRemote = nil })
	e := newEnv(t, "nbd", "enable", false)
	first := e.run()
	key.Store("xbr-repo/vms/" + first.VMUUID + "/" + first.Timestamp + ".json")
	e.guestWrite(e.liveDisks()[0], 0, 4096, 3)
	armed.Store(true)
	id, done := e.fire()
	if armed.Load() {
		t.Fatal("the injected prune did not run")
	}
	if done.Status != events.StatusSuccess {
		t.Fatalf("run whose base point was pruned meanwhile: %s %+v", done.Status, done.Results)
	}
	for _, r := range e.stored() {
		if p, ok := r.Payload.(events.IncrementalCompleted); ok && p.RunID == id {
			if p.Path != events.PathFullScan || p.PathReason != events.PathReasonBaseGone {
				t.Errorf("path %s (%s), want full-scan (base-gone)", p.Path, p.PathReason)
			}
			e.assertPoint(p)
		}
	}
	e.assertBases(2)
}
