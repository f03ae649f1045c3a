//go:build unix

package restore_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi/xapisim"
)

// TestLinkedBackupIsNotRestored: a sound backup whose VM folder, or .xva alone, is a
// symbolic link to a place outside the remote is not restored; the failure names the link
// and no VM or disk appears.
func TestLinkedBackupIsNotRestored(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(id catalog.ID) string // what is moved out and linked back
	}{
		{"VM folder", func(id catalog.ID) string { return strings.TrimSuffix(catalog.VMPrefix(id.VM), "/") }},
		{"xva", func(id catalog.ID) string { return id.DataKey() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, xapisim.Options{})
			id := e.writeBackup(e.halted(), backupOpts{codec: compress.Gzip})
			link := tc.key(id)
			from := filepath.Join(e.root, filepath.FromSlash(link))
			to := filepath.Join(t.TempDir(), filepath.Base(from))
			must(t, os.Rename(from, to))
			must(t, os.Symlink(to, from))
			before := e.objects()
			f := e.failed(request(t, restoreclient.Params{BackupID: id.String(), Start: true}, 1))
			t.Logf("failure: %s", f.Error)
			if want := link + " is a symbolic link that escapes the remote"; !strings.Contains(f.Error, want) {
				t.Errorf("failure %q does not say %q", f.Error, want)
			}
			e.eventuallyObjects(before)
		})
	}
}
