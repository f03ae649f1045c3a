package dir_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

// A batch's objects are whole, visible to the remote at once, found by Stat, and leave no
// temp file; Barrier fsyncs each touched folder once; a failed fsync fails Barrier, and the
// next Barrier syncs that folder again (nothing is forgotten after a failure).
func TestBatch(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	var syncs int
	fail := false
	d, err := dir.New("nfs", root, dir.WithSyncHook(func() error {
		syncs++
		if fail {
			return errors.New("injected fsync failure")
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.NewBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data := bytes.Repeat([]byte("chunk"), 100_000)
	for _, key := range []string{"xbr-repo/chunks/ab/1", "xbr-repo/chunks/ab/2", "xbr-repo/chunks/cd/3"} {
		if err := b.Put(ctx, key, data); err != nil {
			t.Fatal(err)
		}
		rc, err := d.Open(ctx, key)
		if err != nil {
			t.Fatalf("open %s after Put: %v", key, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: read %d bytes, want the %d put", key, len(got), len(data))
		}
	}
	if _, err := b.Stat(ctx, "xbr-repo/chunks/ef/4"); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("stat of a missing key = %v, want ErrNotFound", err)
	}
	if temps, err := d.ListTemp(ctx, ""); err != nil || len(temps) != 0 {
		t.Fatalf("temp files after Put: %v, %v: want none", temps, err)
	}
	fail = true
	if err := b.Barrier(ctx); err == nil {
		t.Fatal("Barrier with a failing fsync succeeded")
	}
	fail, syncs = false, 0
	if err := b.Barrier(ctx); err != nil || syncs != 2 {
		t.Fatalf("Barrier = %v after %d folder syncs, want the 2 touched folders synced", err, syncs)
	}
	if _, err := b.Stat(ctx, "xbr-repo/chunks/ab/1"); err != nil {
		t.Fatal(err)
	}
	syncs = 0
	if err := b.Barrier(ctx); err != nil || syncs != 1 {
		t.Fatalf("Barrier = %v after %d syncs, want the folder of the object Stat found", err, syncs)
	}
}

// A batch follows no symbolic link in a key's folders, as Create does.
func TestBatchRefusesLinks(t *testing.T) {
	ctx := context.Background()
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	d, _ := dir.New("nfs", root)
	b, err := d.NewBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Put(ctx, "link/x", []byte("x")); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("Put through a link = %v, want ErrNotFound", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("Put wrote %d entries outside the remote", len(entries))
	}
}

// A name put into a folder while a Barrier is syncing that folder is made durable by the
// next Barrier: the one running cannot know whether its fsync came after the rename.
func TestBarrierKeepsPutsDuringItsSync(t *testing.T) {
	ctx := context.Background()
	var b remote.Batch
	var syncs, putDuring int
	d, err := dir.New("nfs", t.TempDir(), dir.WithSyncHook(func() error {
		syncs++
		if putDuring == 1 { // another writer's Put lands in the folder being synced
			putDuring++
			return b.Put(ctx, "xbr-repo/chunks/ab/2", []byte("two"))
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if b, err = d.NewBatch(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Put(ctx, "xbr-repo/chunks/ab/1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	putDuring = 1
	if err := b.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	before := syncs
	if err := b.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if syncs == before {
		t.Fatal("the folder a Put renamed into during the last Barrier's fsync was not synced again")
	}
}
