//go:build unix

package integrity_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/integrity"
)

// TestLinkedBackupIsNotVerifiedOK: a sound backup reached through a symbolic link that leads
// out of the remote (the VM folder, or the .xva alone) is not verified ok, neither by id
// nor in a verification of the whole remote, and the failure says why.
func TestLinkedBackupIsNotVerifiedOK(t *testing.T) {
	for _, tc := range []struct {
		name string
		link func(d string, id catalog.ID) string // moves a part out and links it; returns the link's key
	}{
		{"VM folder", func(root string, id catalog.ID) string {
			return moveOut(t, root, strings.TrimSuffix(catalog.VMPrefix(id.VM), "/"))
		}},
		{"xva", func(root string, id catalog.ID) string { return moveOut(t, root, id.DataKey()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newRemote(t)
			id := writeBackup(t, d, backupTime, compress.Zstd, 2<<20)
			if res := integrity.Backup(context.Background(), d, id, integrity.Options{}); !res.OK() {
				t.Fatalf("before the link: %v", res.Err)
			}
			link := tc.link(d.Root(), id)
			for _, deep := range []bool{false, true} {
				res := integrity.Backup(context.Background(), d, id, integrity.Options{Deep: deep})
				if res.OK() || !strings.Contains(res.ErrorText(), link+" is a symbolic link that escapes the remote") {
					t.Errorf("deep %v: verified %+v, want a failure naming the link %s", deep, res, link)
				}
			}
			all, err := integrity.All(context.Background(), d, integrity.Options{})
			check(t, err)
			for _, res := range all {
				if res.OK() {
					t.Errorf("verify all: %s verified ok through the link", res.ID)
				}
			}
		})
	}
}

// moveOut moves the file or folder at key to a folder outside the remote and puts a
// symbolic link to it in its place.
func moveOut(t *testing.T, root, key string) string {
	t.Helper()
	from := filepath.Join(root, filepath.FromSlash(key))
	to := filepath.Join(t.TempDir(), filepath.Base(from))
	check(t, os.Rename(from, to))
	check(t, os.Symlink(to, from))
	return key
}
