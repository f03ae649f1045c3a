//go:build unix

package remotetest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"xbr/shared/remote"
)

// RunLinks runs the cases of a remote kept in a directory tree, where something other than
// the remote (an operator, another host on the NFS share, an attacker with write access to
// the share) can plant symbolic links. newRemote returns a fresh, empty remote and the
// directory it keeps its objects in.
//
// The contract: a key names plain folders and a plain file. A symbolic link anywhere in its
// path is never followed: List leaves it out, Open, Stat, Create and Delete fail with an
// error wrapping remote.ErrNotFound that names the link, and says "escapes the remote" when
// the link leads outside. Nothing outside the directory is read, written or removed.
func RunLinks(t *testing.T, newRemote func(t *testing.T) (remote.Remote, string)) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(t *testing.T, r remote.Remote, root string)
	}{
		{"FolderLinkOutside", testFolderLinkOutside},
		{"RelativeFolderLinkOutside", testRelativeFolderLinkOutside},
		{"FileLinkToFileOutside", testFileLinkToFile},
		{"FileLinkToFIFOOutside", testFileLinkToFIFO},
		{"LinksInside", testLinksInside},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, root := newRemote(t)
			c.fn(t, r, root)
		})
	}
}

// secret stands for a file outside the remote that must never reach a reader (/etc/passwd).
const secret = "root:x:0:0:root:/root:/bin/bash\n"

// outsideFolder makes a folder outside the remote holding what looks like a backup, and
// a leftover temp file.
func outsideFolder(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "elsewhere")
	must(t, os.Mkdir(dir, 0o755))
	for _, name := range []string{"20231012T101112Z.json", "20231012T101112Z.xva", remote.TempName("20231012T101112Z.xva", "0123456789abcdef")} {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(secret), 0o644))
	}
	return dir
}

func testFolderLinkOutside(t *testing.T, r remote.Remote, root string) {
	outside := outsideFolder(t)
	must(t, os.Symlink(outside, filepath.Join(root, "vm")))
	assertFolderRefused(t, r, "vm", outside)
}

func testRelativeFolderLinkOutside(t *testing.T, r remote.Remote, root string) {
	outside := outsideFolder(t)
	rel, err := filepath.Rel(filepath.Join(root, "xo"), outside)
	must(t, err)
	must(t, os.Mkdir(filepath.Join(root, "xo"), 0o755))
	must(t, os.Symlink(rel, filepath.Join(root, "xo", "vm")))
	assertFolderRefused(t, r, "xo/vm", outside)
}

// assertFolderRefused checks every operation on keys under the folder link, and that the
// folder outside is unchanged.
func assertFolderRefused(t *testing.T, r remote.Remote, link, outside string) {
	ctx := context.Background()
	data, meta := link+"/20231012T101112Z.xva", link+"/20231012T101112Z.json"
	AssertKeys(t, r, "")
	AssertKeys(t, r, link+"/")
	for _, key := range []string{meta, data} {
		assertLinkError(t, "Open", key, link, true, openErr(r, key))
		_, err := r.Stat(ctx, key)
		assertLinkError(t, "Stat", key, link, true, err)
	}
	assertLinkError(t, "Delete", data, link, true, r.Delete(ctx, data))
	assertLinkError(t, "Create", link+"/new.xva", link, true, createErr(r, link+"/new.xva"))
	if s, ok := r.(remote.Sweeper); ok {
		temps, err := s.ListTemp(ctx, "")
		if err != nil || len(temps) != 0 {
			t.Errorf("ListTemp = %v, %v; want nothing (the leftover is outside)", temps, err)
		}
		tmp := remote.Temp{Key: data, ID: link + "/" + remote.TempName("20231012T101112Z.xva", "0123456789abcdef")}
		assertLinkError(t, "RemoveTemp", tmp.ID, link, true, s.RemoveTemp(ctx, tmp))
	}
	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 3 {
		t.Errorf("the folder outside now holds %v (%v), want its 3 files untouched", entries, err)
	}
}

func testFileLinkToFile(t *testing.T, r remote.Remote, root string) {
	target := filepath.Join(t.TempDir(), "passwd")
	must(t, os.WriteFile(target, []byte(secret), 0o644))
	key := plantFileLink(t, r, root, target)
	assertLinkError(t, "Open", key, key, true, openErr(r, key))
	_, err := r.Stat(context.Background(), key)
	assertLinkError(t, "Stat", key, key, true, err)
	if b, err := os.ReadFile(target); err != nil || string(b) != secret {
		t.Errorf("the file outside changed: %q, %v", b, err)
	}
}

// testFileLinkToFIFO: the target is a FIFO, so a remote that opened it would block until a
// writer comes; a watcher stands ready as that writer and records whether anyone opened it.
func testFileLinkToFIFO(t *testing.T, r remote.Remote, root string) {
	fifo := filepath.Join(t.TempDir(), "passwd")
	must(t, syscall.Mkfifo(fifo, 0o644))
	opened := watchFIFO(t, fifo)
	key := plantFileLink(t, r, root, fifo)
	assertLinkError(t, "Open", key, key, true, openErr(r, key))
	_, err := r.Stat(context.Background(), key)
	assertLinkError(t, "Stat", key, key, true, err)
	AssertKeys(t, r, "", "vm/20231012T101112Z.json")
	if opened() {
		t.Error("the remote opened the FIFO outside it")
	}
}

// plantFileLink writes a backup's .json in vm/ and puts its .xva as a link to target.
func plantFileLink(t *testing.T, r remote.Remote, root, target string) string {
	PutBytes(t, r, "vm/20231012T101112Z.json", []byte(`{"mode":"full"}`))
	key := "vm/20231012T101112Z.xva"
	must(t, os.Symlink(target, filepath.Join(root, filepath.FromSlash(key))))
	AssertKeys(t, r, "", "vm/20231012T101112Z.json")
	return key
}

// testLinksInside: links that stay inside the remote are not followed either, so that what
// List shows is all that can be read.
func testLinksInside(t *testing.T, r remote.Remote, root string) {
	PutBytes(t, r, "vm/a.xva", []byte("backup"))
	must(t, os.Symlink("vm", filepath.Join(root, "alias")))
	must(t, os.Symlink("a.xva", filepath.Join(root, "vm", "b.xva")))
	AssertKeys(t, r, "", "vm/a.xva")
	AssertKeys(t, r, "alias/")
	for key, link := range map[string]string{"alias/a.xva": "alias", "vm/b.xva": "vm/b.xva"} {
		assertLinkError(t, "Open", key, link, false, openErr(r, key))
		_, err := r.Stat(context.Background(), key)
		assertLinkError(t, "Stat", key, link, false, err)
	}
	assertLinkError(t, "Create", "alias/c.xva", "alias", false, createErr(r, "alias/c.xva"))
	AssertContent(t, r, "vm/a.xva", []byte("backup"))
	AssertKeys(t, r, "", "vm/a.xva")
}

// assertLinkError wants an error wrapping ErrNotFound that names the link and, when it
// leads outside, says so.
func assertLinkError(t *testing.T, op, key, link string, escapes bool, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s(%q) succeeded through the symbolic link %s", op, key, link)
	case !errors.Is(err, remote.ErrNotFound):
		t.Errorf("%s(%q) = %v, want an error wrapping ErrNotFound", op, key, err)
	case !strings.Contains(err.Error(), link+" is a symbolic link"):
		t.Errorf("%s(%q) = %v, want it to say %q", op, key, err, link+" is a symbolic link")
	case escapes && !strings.Contains(err.Error(), "escapes the remote"):
		t.Errorf("%s(%q) = %v, want it to say it escapes the remote", op, key, err)
	}
}

// openErr opens key and reads it; it fails the test if the secret comes out.
func openErr(r remote.Remote, key string) error {
	rc, err := r.Open(context.Background(), key)
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err == nil && string(b) == secret {
		return errors.New("read the file outside the remote: " + string(b))
	}
	return err
}

// createErr writes and commits key, and returns the first error.
func createErr(r remote.Remote, key string) error {
	ctx := context.Background()
	u, err := r.Create(ctx, key, -1)
	if err != nil {
		return err
	}
	defer u.Abort(ctx)
	if _, err := u.Write([]byte("new")); err != nil {
		return err
	}
	return u.Commit(ctx)
}

// watchFIFO opens the FIFO for writing (which waits for a reader) and reports whether a
// reader came before the test ended. At cleanup it opens the reading end itself to end the
// wait.
func watchFIFO(t *testing.T, fifo string) func() bool {
	var opened, ending atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		if !ending.Load() {
			opened.Store(true)
			_, _ = f.Write([]byte(secret))
		}
		f.Close()
	}()
	t.Cleanup(func() {
		ending.Store(true)
		f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		<-done
		if err == nil {
			f.Close()
		}
	})
	return opened.Load
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
