package export

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
)

// TestLockVMOrderDeadlock: two exports of one VM (two jobs, or two
// processes) whose jobs list the same two directory remotes in a different
// order take the VM-folder locks in that order. One holds A and waits for
// B, the other holds B and waits for A: neither ever gets both (with no
// vm_timeout, forever).
func TestLockVMOrderDeadlock(t *testing.T) {
	const vm = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f"
	da, db := t.TempDir(), t.TempDir()
	open := func(name, path string) remote.Remote {
		r, err := dir.New(name, path)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a1, b1 := open("a", da), open("b", db) // the first worker's view
	a2, b2 := open("a", da), open("b", db) // the second worker's (another process)
	// B is busy a moment (XO's backup of the VM, say) while the first
	// export starts: it takes A and waits for B.
	heldB, err := catalog.LockVM(context.Background(), open("b", db), vm)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	type res struct {
		name string
		err  error
	}
	done := make(chan res, 2)
	take := func(name string, w *Worker, rems []remote.Remote) {
		locks, err := w.lockVM(ctx, rems, vm)
		if err == nil {
			locks.unlock()
		}
		done <- res{name, err}
	}
	go take("job1 [a b]", newWorker(Deps{}), []remote.Remote{a1, b1})
	testsupport.Eventually(t, 5*time.Second, "job1 to hold a's lock", func() bool {
		_, err := os.Stat(filepath.Join(da, "xo-vm-backups", vm+".lock"))
		return err == nil
	})
	if err := heldB.Unlock(); err != nil {
		t.Fatal(err)
	}
	go take("job2 [b a]", newWorker(Deps{}), []remote.Remote{b2, a2})
	for range 2 {
		if r := <-done; r.err != nil {
			t.Errorf("%s: never got the VM-folder locks: %v", r.name, r.err)
		}
	}
}
