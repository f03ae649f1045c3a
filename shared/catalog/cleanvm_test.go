package catalog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote"
)

// Xen Orchestra's cleanVm runs on a VM folder while xbr writes a backup there: it deletes
// nothing of xbr's (the in-flight temp file is not in the folder), and the write commits.
// While xbr holds the folder's lock, XO's cleanVm is refused, as XO's own lock refuses it.
func TestXOCleanVMSparesAnXbrWriteInFlight(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	done := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0, xbr: true})
	next, err := catalog.NewID("nfs", vmA, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	held, err := remote.LockFolder(ctx, r, strings.TrimSuffix(catalog.VMPrefix(vmA), "/"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := r.Create(ctx, next.DataKey(), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(make([]byte, 1234)); err != nil {
		t.Fatal(err)
	}
	if _, err := catalogtest.XOCleanVM(t, r.Root(), vmA, true); !errors.Is(err, catalogtest.ErrLocked) {
		t.Errorf("XO's cleanVm while xbr holds the lock: %v, want ELOCKED", err)
	}
	// Even without the lock (a cleanVm run with lock: false), nothing in flight is lost.
	deleted, err := catalogtest.XOCleanVM(t, r.Root(), vmA, false)
	if err != nil || len(deleted) != 0 {
		t.Fatalf("XO's cleanVm deleted %v (%v) during the write", deleted, err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatalf("commit after XO's cleanVm: %v", err)
	}
	js, err := metadataFor(backup{vm: vmA, name: "web", job: "j", schedule: "s", at: next.Time}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := putBytes(ctx, r, next.MetaKey(), js); err != nil {
		t.Fatal(err)
	}
	if err := held.Unlock(); err != nil {
		t.Fatal(err)
	}
	deleted, err = catalogtest.XOCleanVM(t, r.Root(), vmA, true)
	if err != nil || len(deleted) != 0 {
		t.Errorf("XO's cleanVm after the write deleted %v (%v)", deleted, err)
	}
	got, problems, err := catalog.List(ctx, r, catalog.Filter{VM: vmA})
	if err != nil || len(problems) > 0 || !slices.Equal(idStrings(got), []string{next.String(), done.String()}) {
		t.Errorf("listed %v %v %v", idStrings(got), problems, err)
	}
}

func putBytes(ctx context.Context, r remote.Remote, key string, b []byte) error {
	u, err := r.Create(ctx, key, int64(len(b)))
	if err != nil {
		return err
	}
	if _, err := u.Write(b); err != nil {
		return err
	}
	return u.Commit(ctx)
}
