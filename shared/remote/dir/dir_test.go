package dir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

func newDir(t *testing.T) remote.Remote {
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConformance(t *testing.T) {
	remotetest.Run(t, newDir)
}

func TestNewRejectsMissingRoot(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "not-mounted")
	if _, err := dir.New("nfs", missing); err == nil || !strings.Contains(err.Error(), "not-mounted") {
		t.Fatalf("New on a missing root = %v, want an error naming the path", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("New created the missing root: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.New("nfs", file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("New on a file = %v, want 'not a directory'", err)
	}
}

// TestOnDiskLayout: keys map to plain files under the root, so Xen Orchestra reads them, and
// the temp file sits outside the object's folder while writing, under the remote's hidden
// temp folder (remote.TempFolder): XO's cleanVm deletes every unclaimed file in a VM folder,
// hidden ones included.
func TestOnDiskLayout(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := "xo-vm-backups/6b2c/20231012T101112Z.xva"
	u, err := d.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte("xva")); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(filepath.Join(root, "xo-vm-backups/6b2c")); err != nil || len(entries) != 0 {
		t.Fatalf("VM folder while writing = %v, %v; want it empty", entries, err)
	}
	entries, err := os.ReadDir(filepath.Join(root, remote.TempFolder, "xo-vm-backups/6b2c"))
	if err != nil || len(entries) != 1 || !remote.IsTempName(entries[0].Name()) {
		t.Fatalf("temp folder while writing = %v, %v; want one temp file", entries, err)
	}
	if base, _ := remote.TempBase(entries[0].Name()); base != "20231012T101112Z.xva" {
		t.Errorf("temp file %q stands for %q", entries[0].Name(), base)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(key)))
	if err != nil || string(b) != "xva" {
		t.Fatalf("file on disk = %q, %v", b, err)
	}
	entries, _ = os.ReadDir(filepath.Join(root, "xo-vm-backups/6b2c"))
	if len(entries) != 1 || entries[0].Name() != "20231012T101112Z.xva" {
		t.Errorf("folder after commit = %v, want only the final file", entries)
	}
}

// TestListSkipsForeignFiles: files that are not valid keys (written by something else) and
// folders are not listed.
func TestListSkipsForeignFiles(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{`vm/back\slash`, "vm/ok.json", "vm/.ok.0123456789abcdef.tmp"} {
		if err := os.MkdirAll(filepath.Join(root, "vm"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "vm", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := d.List(context.Background(), "")
	if err != nil || len(infos) != 1 || infos[0].Key != "vm/ok.json" {
		t.Fatalf("List = %v, %v; want only vm/ok.json", infos, err)
	}
}
