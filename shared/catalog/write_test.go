package catalog_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote/remotetest"
)

// Commit writes what follows the data, in Xen Orchestra's order: the
// .xva.checksum, then the .json that makes the backup listed.
func TestCommitWritesChecksumThenMetadata(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	b := backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0, xbr: true}
	id, _ := catalog.NewID(r.Name(), vmA, t0)
	m := metadataFor(b)
	remotetest.PutBytes(t, r, id.DataKey(), make([]byte, m.Size))
	sha256hex := strings.Repeat("0123456789abcdef", 4)
	if err := catalog.Commit(ctx, r, id, m, sha256hex); err != nil {
		t.Fatal(err)
	}
	rc, err := r.Open(ctx, id.ChecksumKey())
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := io.ReadAll(rc)
	rc.Close()
	if string(sum) != "$5$$"+sha256hex {
		t.Errorf("checksum file = %q", sum)
	}
	got, err := catalog.ReadMetadata(ctx, r, id)
	if err != nil || got.Xbr == nil || got.Xbr.RunID != m.Xbr.RunID || got.Timestamp != m.Timestamp {
		t.Errorf("metadata read back: %+v, %v", got, err)
	}
	listed, _, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil || !slices.Equal(idStrings(listed), []string{id.String()}) {
		t.Errorf("listed after commit: %v, %v", idStrings(listed), err)
	}
}

// Commit refuses metadata that does not belong to the id: the .json would
// name another backup's data file.
func TestCommitRejectsMetadataOfAnotherBackup(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	id, _ := catalog.NewID(r.Name(), vmA, t0)
	m := metadataFor(backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Hour)})
	if err := catalog.Commit(ctx, r, id, m, "0123456789abcdef0123456789abcdef"); err == nil {
		t.Fatal("metadata of another time committed")
	}
	if _, err := r.Stat(ctx, id.MetaKey()); err == nil {
		t.Error(".json written")
	}
}
