package catalog_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/remote/remotetest"
)

func TestDelete(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	keep := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0})
	gone := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Hour)})
	remotetest.PutBytes(t, r, gone.ChecksumKey(), []byte("$1$$0123456789abcdef0123456789abcdef"))
	if err := catalog.Delete(ctx, r, gone); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{gone.MetaKey(), gone.DataKey(), gone.ChecksumKey()} {
		if _, err := r.Stat(ctx, key); !errors.Is(err, remote.ErrNotFound) {
			t.Errorf("%s still there: %v", key, err)
		}
	}
	got, _, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil || !slices.Equal(idStrings(got), []string{keep.String()}) {
		t.Errorf("after delete: %v, %v", idStrings(got), err)
	}
	if err := catalog.Delete(ctx, r, gone); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

// recordingDeleter records the order of deletions and fails on one key (an injected fault).
type recordingDeleter struct {
	keys []string
	fail string
}

func (d *recordingDeleter) Delete(_ context.Context, key string) error {
	d.keys = append(d.keys, key)
	if key == d.fail {
		return errInjected
	}
	return nil
}

func TestDeleteOrder(t *testing.T) {
	id, err := catalog.ParseID("nfs:" + vmA + "/20231012T101112Z")
	if err != nil {
		t.Fatal(err)
	}
	d := &recordingDeleter{fail: id.MetaKey()}
	if err := catalog.Delete(context.Background(), d, id); !errors.Is(err, errInjected) {
		t.Errorf("err = %v", err)
	}
	if !slices.Equal(d.keys, []string{id.MetaKey()}) {
		t.Errorf("after a failed .json delete, also deleted %v", d.keys)
	}
	d = &recordingDeleter{fail: id.DataKey()}
	err = catalog.Delete(context.Background(), d, id)
	if !errors.Is(err, errInjected) || !slices.Equal(d.keys, []string{id.MetaKey(), id.DataKey(), id.ChecksumKey()}) {
		t.Errorf("order %v, err %v", d.keys, err)
	}
}
