package dir_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"xbr/shared/remote/dir"
)

func TestRemoveEmptyFolder(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Create(ctx, "a/b/file", -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(u, "x"); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveEmptyFolder(ctx, "a/b"); err == nil {
		t.Fatal("a folder that is not empty was removed")
	}
	if err := d.RemoveEmptyFolder(ctx, "a/b/file"); err == nil {
		t.Fatal("an object was removed as a folder")
	}
	if err := d.Delete(ctx, "a/b/file"); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveEmptyFolder(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "b")); !os.IsNotExist(err) {
		t.Fatalf("a/b still there: %v", err)
	}
	for _, key := range []string{"a/b", "missing/folder"} {
		if err := d.RemoveEmptyFolder(ctx, key); err != nil {
			t.Fatalf("removing %s again: %v", key, err)
		}
	}
	if err := d.RemoveEmptyFolder(ctx, "../escape"); err == nil {
		t.Fatal("a key out of the remote was accepted")
	}
}
