package prune_test

import (
	"context"
	"fmt"
	"testing"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// TestSweepHoldsEveryXOBlockAtOnce: the sweep looks for .xva files without
// their .json at the top of each VM folder, but lists the whole
// xo-vm-backups/ tree in one List: on a remote shared with Xen Orchestra
// that includes every block of XO's VHD-directory delta backups
// (vdis/<job>/<vdi>/<ts>.vhd/blocks/..., one object per 2 MiB block: some
// 500,000 per TiB of disk), all held at once, every SweepEvery. Here 512
// XO blocks and no xbr file at all: no listing should hold more than a
// handful of objects (as the usage measure already walks).
func TestSweepHoldsEveryXOBlockAtOnce(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const vm = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f"
	const vhd = "xo-vm-backups/" + vm + "/vdis/6a1d1f0e-2b3c-4d5e-8f90-a1b2c3d4e5f6/7b2e2a1f-3c4d-4e5f-9a01-b2c3d4e5f6a7/20240301T020000Z.vhd"
	for i := range 512 {
		remotetest.PutBytes(t, d, fmt.Sprintf("%s/blocks/%d/%d", vhd, i/64, i), []byte("b"))
	}
	l := &largestList{Remote: d}
	p := prune.New(nil, oneRemote{l}, nil, nil, events.Subjects{}, prune.Options{})
	if _, err := p.Sweep(ctx, "sweep-test", []string{"nfs"}, nil); err != nil {
		t.Fatal(err)
	}
	if l.most > 8 {
		t.Fatalf("one listing held %d objects: the sweep holds every block of XO's delta backups at once", l.most)
	}
}
