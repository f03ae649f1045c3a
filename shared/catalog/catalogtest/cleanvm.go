package catalogtest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ErrLocked is what XO's cleanVm meets when the VM folder's lock is held (proper-lockfile's
// ELOCKED, retries 0): it does nothing.
var ErrLocked = errors.New("ELOCKED")

// XOCleanVM applies the on-disk effects of Xen Orchestra's cleanVm (@xen-orchestra/
// backup-archive VmBackupDirectory, remove: true) to the VM folder under a directory
// remote's root, and returns the files it deleted. With lock it first takes the folder's
// lock as XO does (mkdir "<vm>.lock", a lock fresher than 10 s is held: ErrLocked).
//
// The rules: every file directly in the folder that no archive claims is unlinked, hidden
// ones too (cache.json.gz and vdis are claimed; a full archive whose .json parses claims its
// .json, .xva and .xva.checksum; a delta archive claims its .json); a full archive whose .xva
// is missing loses its .json and .xva.checksum. Subfolders are left alone.
func XOCleanVM(t testing.TB, root, vm string, lock bool) ([]string, error) {
	t.Helper()
	folder := filepath.Join(root, "xo-vm-backups", vm)
	if lock {
		unlock, err := xoLock(folder)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Name()] = true
	}
	claimed := map[string]bool{"cache.json.gz": true, "vdis": true}
	var doomed []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || e.IsDir() {
			continue
		}
		var m struct {
			Mode string `json:"mode"`
			XVA  string `json:"xva"`
		}
		b, err := os.ReadFile(filepath.Join(folder, e.Name()))
		if err != nil || json.Unmarshal(b, &m) != nil {
			continue // not loadable: unclaimed
		}
		if m.Mode == "delta" {
			claimed[e.Name()] = true
			continue
		}
		xva := strings.TrimPrefix(m.XVA, "./")
		if !present[xva] {
			doomed = append(doomed, e.Name(), xva+".checksum")
			continue
		}
		claimed[e.Name()], claimed[xva], claimed[xva+".checksum"] = true, true, true
	}
	for _, e := range entries {
		if !e.IsDir() && !claimed[e.Name()] {
			doomed = append(doomed, e.Name())
		}
	}
	var deleted []string
	for _, name := range doomed {
		if err := os.Remove(filepath.Join(folder, name)); err == nil {
			deleted = append(deleted, name)
		}
	}
	return deleted, nil
}

func xoLock(folder string) (func(), error) {
	lock := folder + ".lock"
	if err := os.Mkdir(lock, 0o755); err != nil {
		fi, serr := os.Stat(lock)
		if serr != nil || time.Since(fi.ModTime()) < 10*time.Second {
			return nil, ErrLocked
		}
		if err := os.Remove(lock); err != nil || os.Mkdir(lock, 0o755) != nil {
			return nil, ErrLocked
		}
	}
	return func() { _ = os.Remove(lock) }, nil
}
