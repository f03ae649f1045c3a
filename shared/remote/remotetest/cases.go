package remotetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"xbr/shared/remote"
)

// BigSize is the size of the streamed round-trip object: large enough to need several
// multipart parts on S3 at the 5 MiB minimum part size.
const BigSize = 12<<20 + 12345

func testRoundTrip(t *testing.T, r remote.Remote) {
	key := "xo-vm-backups/6b2c7a3e-1111-4000-8000-000000000001/20231012T101112Z.xva"
	want := Put(t, r, key, 1, BigSize)
	n, got := Hash(t, r, key)
	if n != BigSize || got != want {
		t.Fatalf("read back %d bytes sha256 %x, want %d bytes %x", n, got, BigSize, want)
	}
	info, err := r.Stat(context.Background(), key)
	if err != nil || info.Key != key || info.Size != BigSize || info.ModTime.IsZero() {
		t.Fatalf("Stat = %+v, %v; want key %q size %d and a time", info, err, key, BigSize)
	}
	AssertNoTemp(t, r)
}

func testNotVisibleBeforeCommit(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	key := "vm/a.xva"
	u, err := r.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Abort(ctx)
	if _, err := io.Copy(u, Data(2, 6<<20)); err != nil {
		t.Fatal(err)
	}
	AssertAbsent(t, r, key)
	AssertKeys(t, r, "")
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	AssertKeys(t, r, "", key)
	if info, err := r.Stat(ctx, key); err != nil || info.Size != 6<<20 {
		t.Fatalf("after Commit: Stat = %+v, %v; want %d bytes", info, err, 6<<20)
	}
	if err := u.Commit(ctx); err == nil {
		t.Error("second Commit succeeded, want an error")
	}
	if _, err := u.Write([]byte("x")); err == nil {
		t.Error("Write after Commit succeeded, want an error")
	}
	if err := u.Abort(ctx); err != nil {
		t.Errorf("Abort after Commit = %v, want nil", err)
	}
	if info, err := r.Stat(ctx, key); err != nil || info.Size != 6<<20 {
		t.Fatalf("Abort after Commit changed the object: Stat = %+v, %v", info, err)
	}
}

func testAbort(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	for _, n := range []int64{0, 1000, 6 << 20} {
		key := fmt.Sprintf("vm/abort-%d.xva", n)
		u, err := r.Create(ctx, key, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(u, Data(3, n)); err != nil {
			t.Fatal(err)
		}
		if err := u.Abort(ctx); err != nil {
			t.Fatalf("Abort: %v", err)
		}
		if err := u.Abort(ctx); err != nil {
			t.Errorf("second Abort = %v, want nil", err)
		}
		if err := u.Commit(ctx); err == nil {
			t.Error("Commit after Abort succeeded, want an error")
		}
		AssertAbsent(t, r, key)
	}
	AssertKeys(t, r, "")
	AssertNoTemp(t, r)
}

func testOverwrite(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	key := "vm/20231012T101112Z.json"
	PutBytes(t, r, key, []byte(`{"v":1}`))
	u, err := r.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte(`{"v":2,"longer":true}`)); err != nil {
		t.Fatal(err)
	}
	AssertContent(t, r, key, []byte(`{"v":1}`))
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	AssertContent(t, r, key, []byte(`{"v":2,"longer":true}`))
	if info, err := r.Stat(ctx, key); err != nil || info.Size != 21 {
		t.Errorf("Stat after overwrite = %+v, %v; want 21 bytes", info, err)
	}
	// An aborted overwrite keeps the committed object.
	u, err = r.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte("garbage")); err != nil {
		t.Fatal(err)
	}
	if err := u.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	AssertContent(t, r, key, []byte(`{"v":2,"longer":true}`))
}

func testEmpty(t *testing.T, r remote.Remote) {
	PutBytes(t, r, "empty", nil)
	info, err := r.Stat(context.Background(), "empty")
	if err != nil || info.Size != 0 {
		t.Fatalf("Stat(empty) = %+v, %v; want 0 bytes", info, err)
	}
	AssertContent(t, r, "empty", nil)
}

func testList(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	keys := map[string]int{
		"b/2.json": 2, "a/1/x.xva": 11, "a/10": 3, "a-b": 4, "a/2.json": 5, "c": 0, "a/1/.hidden": 7,
	}
	for k, n := range keys {
		PutBytes(t, r, k, make([]byte, n))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b", "a/1/.hidden", "a/1/x.xva", "a/10", "a/2.json", "b/2.json", "c"}},
		{"a/", []string{"a/1/.hidden", "a/1/x.xva", "a/10", "a/2.json"}},
		{"a/1", []string{"a/1/.hidden", "a/1/x.xva", "a/10"}},
		{"a/1/", []string{"a/1/.hidden", "a/1/x.xva"}},
		{"a", []string{"a-b", "a/1/.hidden", "a/1/x.xva", "a/10", "a/2.json"}},
		{"b/2.json", []string{"b/2.json"}},
		{"zzz/", nil},
		{"a/1/x.xva/", nil},
	}
	for _, tt := range tests {
		infos, err := r.List(ctx, tt.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tt.prefix, err)
		}
		var got []string
		for _, i := range infos {
			got = append(got, i.Key)
			if want := int64(keys[i.Key]); i.Size != want {
				t.Errorf("List(%q): %s has size %d, want %d", tt.prefix, i.Key, i.Size, want)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
		if w, ok := r.(remote.Walker); ok { // the same objects, one at a time
			var walked []string
			err := w.Walk(ctx, tt.prefix, func(i remote.Info) {
				walked = append(walked, i.Key)
				if want := int64(keys[i.Key]); i.Size != want {
					t.Errorf("Walk(%q): %s has size %d, want %d", tt.prefix, i.Key, i.Size, want)
				}
			})
			slices.Sort(walked)
			if err != nil || !slices.Equal(walked, tt.want) {
				t.Errorf("Walk(%q) = %q, %v; want %q", tt.prefix, walked, err, tt.want)
			}
		}
	}
}

func testDelete(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	PutBytes(t, r, "vm/1.xva", []byte("one"))
	PutBytes(t, r, "vm/1.json", []byte("meta"))
	if err := r.Delete(ctx, "vm/1.xva"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	AssertAbsent(t, r, "vm/1.xva")
	AssertContent(t, r, "vm/1.json", []byte("meta"))
	if err := r.Delete(ctx, "vm/1.xva"); err != nil {
		t.Errorf("Delete of a deleted key = %v, want nil", err)
	}
	if err := r.Delete(ctx, "never/was"); err != nil {
		t.Errorf("Delete of a missing key = %v, want nil", err)
	}
	// The key can be written again after a delete.
	PutBytes(t, r, "vm/1.xva", []byte("again"))
	AssertContent(t, r, "vm/1.xva", []byte("again"))
}

func testNotFound(t *testing.T, r remote.Remote) {
	AssertAbsent(t, r, "missing/key.xva")
	PutBytes(t, r, "present/file", []byte("x"))
	AssertAbsent(t, r, "present/file/below")
	AssertAbsent(t, r, "present")
	infos, err := r.List(context.Background(), "missing/")
	if err != nil || len(infos) != 0 {
		t.Errorf("List(missing/) = %v, %v; want empty", infos, err)
	}
}

func testInvalidKeys(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "../escape", "a/../../b", "a//b", `a\b`, "a\x00b", "dir/"} {
		if _, err := r.Create(ctx, key, -1); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("Create(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := r.Open(ctx, key); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("Open(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := r.Stat(ctx, key); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := r.Delete(ctx, key); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	for _, prefix := range []string{"/", "../", "a//"} {
		if _, err := r.List(ctx, prefix); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("List(%q) = %v, want ErrInvalidKey", prefix, err)
		}
	}
}

func testConcurrent(t *testing.T, r remote.Remote) {
	const n = 6
	var wg sync.WaitGroup
	sums := make([][32]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			size := 1<<20 + int64(i)
			sums[i], errs[i] = PutStream(context.Background(), r, fmt.Sprintf("vm%d/backup.xva", i), Data(uint64(100+i), size), size)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		size, sum := Hash(t, r, fmt.Sprintf("vm%d/backup.xva", i))
		if size != 1<<20+int64(i) || sum != sums[i] {
			t.Errorf("vm%d: read back %d bytes %x, want %d bytes %x", i, size, sum, 1<<20+i, sums[i])
		}
	}
	AssertNoTemp(t, r)
}

// testPutNew: of writers racing to create one key exactly one succeeds, the others get
// ErrExists, and the object is the winner's, whole; a later PutNew changes nothing.
func testPutNew(t *testing.T, r remote.Remote) {
	if _, ok := r.(remote.NewPutter); !ok {
		t.Fatalf("%T does not implement remote.NewPutter: PutNew would not be atomic", r)
	}
	ctx := context.Background()
	const key, n = "xbr-repo/config.json", 8
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			errs <- remote.PutNew(ctx, r, key, []byte(fmt.Sprintf("writer %d of the config", i)))
		}()
	}
	close(start)
	won := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			won++
		case !errors.Is(err, remote.ErrExists):
			t.Errorf("a losing PutNew: %v, want ErrExists", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racing PutNews succeeded, want exactly 1", won, n)
	}
	first := readAll(t, r, key)
	if err := remote.PutNew(ctx, r, key, []byte("late")); !errors.Is(err, remote.ErrExists) {
		t.Fatalf("PutNew on an existing key: %v, want ErrExists", err)
	}
	if got := readAll(t, r, key); !slices.Equal(got, first) || len(got) == 0 {
		t.Fatalf("the object changed after a refused PutNew: %q, was %q", got, first)
	}
	if infos, err := r.List(ctx, ""); err != nil || len(infos) != 1 {
		t.Fatalf("after the race the remote lists %v (%v), want the one object", infos, err)
	}
}

func readAll(t *testing.T, r remote.Remote, key string) []byte {
	t.Helper()
	rc, err := r.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
