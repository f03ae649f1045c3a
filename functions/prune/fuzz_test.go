package prune_test

import (
	"strings"
	"testing"
	"time"

	"xbr/functions/prune"
	"xbr/shared/catalog"
)

// xo:backup:datetime comes from XAPI records: garbage is an error naming the
// key and quoting the value, and an accepted value prints back in one of the
// two forms it was read from.
func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"20231012T10:11:12Z", "20231012T101112Z", "", "2023-10-12T10:11:12Z", "20231312T10:11:12Z", "\x00", "20231012T10:11:12.5Z"} {
		f.Add(s)
	}
	if _, err := prune.ParseDatetime("20231012T10:11:12.5Z"); err == nil {
		f.Error("fractional seconds accepted")
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := prune.ParseDatetime(s)
		if err != nil {
			if !strings.Contains(err.Error(), "xo:backup:datetime") {
				t.Errorf("error %q does not name the key", err)
			}
			return
		}
		if at.Location() != time.UTC || (at.Format("20060102T15:04:05Z") != s && at.Format("20060102T150405Z") != s) {
			t.Errorf("%q read as %v", s, at)
		}
	})
}

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
