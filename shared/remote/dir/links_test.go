//go:build unix

package dir_test

import (
	"testing"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// TestLinks: symbolic links planted in the folder never lead out of the remote, and what
// List hides cannot be read either.
func TestLinks(t *testing.T) {
	remotetest.RunLinks(t, func(t *testing.T) (remote.Remote, string) {
		d, err := dir.New("nfs", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d, d.Root()
	})
}
