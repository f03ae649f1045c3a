package prune_test

import (
	"testing"

	"xbr/functions/prune"
	"xbr/shared/catalog"
)

// Keys listed on a remote: only xo-vm-backups/<uuid>/<ts>.xva[.checksum] is a
// data file, and its id's keys are the key's siblings.
func FuzzDataFileID(f *testing.F) {
	for _, s := range []string{
		"xo-vm-backups/0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231012T101112Z.xva",
		"xo-vm-backups/0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231012T101112Z.xva.checksum",
		"xo-vm-backups/0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231012T101112Z.json",
		"xo-vm-backups/../20231012T101112Z.xva", "xo-vm-backups/x/y/20231012T101112Z.xva", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		id, ok := prune.DataFileID("store", key)
		if !ok {
			return
		}
		if key != id.DataKey() && key != id.ChecksumKey() {
			t.Errorf("%q recognised as %s", key, id)
		}
		if _, err := catalog.ParseID(id.String()); err != nil {
			t.Errorf("%q gave an invalid id: %v", key, err)
		}
	})
}
