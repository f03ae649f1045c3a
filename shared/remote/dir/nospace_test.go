package dir_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
	"xbr/shared/testsupport"
)

// TestDiskFull: a write that fills the remote fails with an error wrapping ErrNoSpace that
// names the remote and the key; the older backup is untouched, no temp file is left and the
// space is given back.
func TestDiskFull(t *testing.T) {
	setups := []struct {
		name  string
		setup func(t *testing.T) *dir.Dir
	}{
		{"LoopMountedExt4", loopRemote},
		{"InjectedENOSPC", injectedRemote},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			d := s.setup(t)
			ctx := context.Background()
			older := "xo-vm-backups/vm1/20231011T020000Z.xva"
			oldSum := remotetest.Put(t, d, older, 7, 1<<20)

			key := "xo-vm-backups/vm1/20231012T020000Z.xva"
			u, err := d.Create(ctx, key, 32<<20)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(u, remotetest.Data(8, 32<<20))
			if err == nil {
				err = u.Commit(ctx) // delayed allocation may report it at fsync
			}
			if !errors.Is(err, remote.ErrNoSpace) {
				t.Fatalf("filling the disk gave %v, want an error wrapping ErrNoSpace", err)
			}
			t.Logf("error: %v", err)
			for _, want := range []string{"remote small-disk", key, "no space left"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if err := u.Abort(ctx); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			if n, sum := remotetest.Hash(t, d, older); n != 1<<20 || sum != oldSum {
				t.Errorf("older backup changed: %d bytes %x", n, sum)
			}
			remotetest.AssertKeys(t, d, "", older)
			assertNoTempFiles(t, d.Root())
			// The temp file's space is free again: a small backup fits.
			remotetest.PutBytes(t, d, "xo-vm-backups/vm1/20231012T020000Z.json", []byte(`{"mode":"full"}`))
		})
	}
}

// loopRemote mounts a fresh 8 MiB ext4 file system (needs root and loop devices).
func loopRemote(t *testing.T) *dir.Dir {
	tmp := t.TempDir()
	img, mnt := filepath.Join(tmp, "disk.img"), filepath.Join(tmp, "mnt")
	steps := [][]string{
		{"truncate", "-s", "8M", img},
		{"mkfs.ext4", "-q", "-F", img},
		{"mkdir", mnt},
		{"mount", "-o", "loop", img, mnt},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			msg := "cannot build a loop-mounted file system (" + strings.Join(s, " ") + ": " +
				strings.TrimSpace(string(out)) + "); InjectedENOSPC covers the fault"
			testsupport.Missing(t, "%s", msg)
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	d, err := dir.New("small-disk", mnt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// injectedRemote fails every write that would take a file past 4 MiB with ENOSPC, as the
// kernel reports it.
func injectedRemote(t *testing.T) *dir.Dir {
	d, err := dir.New("small-disk", t.TempDir(), dir.WithWriteHook(func(w io.Writer) io.Writer {
		return &fullWriter{w: w, left: 4 << 20}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type fullWriter struct {
	w    io.Writer
	left int64
}

func (f *fullWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > f.left {
		n, _ := f.w.Write(p[:f.left])
		f.left -= int64(n)
		return n, &fs.PathError{Op: "write", Path: "temp", Err: syscall.ENOSPC}
	}
	n, err := f.w.Write(p)
	f.left -= int64(n)
	return n, err
}

func assertNoTempFiles(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if remote.IsTempName(e.Name()) {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
