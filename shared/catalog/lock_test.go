package catalog_test

import (
	"context"
	"strings"
	"testing"

	"xbr/shared/catalog"
)

// LockVM takes Xen Orchestra's lock of the VM folder: a second taker waits
// (here: until its context is done) while the first holds it.
func TestLockVMHoldsTheFolder(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	held, err := catalog.LockVM(ctx, r, vmA)
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if u, err := catalog.LockVM(done, r, vmA); err == nil {
		_ = u.Unlock()
		t.Fatal("the folder was locked twice")
	}
	if err := held.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := catalog.LockVM(ctx, r, vmA)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if err := again.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLockVMRejectsABadUUID(t *testing.T) {
	_, err := catalog.LockVM(context.Background(), newDir(t, "nfs"), "../etc")
	if err == nil || !strings.Contains(err.Error(), `"../etc"`) {
		t.Fatalf("got %v, want an error quoting the uuid", err)
	}
}
