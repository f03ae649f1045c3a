package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

const (
	metaSched = "5b8e2f1c-7a3d-5e9f-b0c1-d2e3f4a5b6c7"
	metaPool  = "1f0c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
)

func TestPoolMetaID(t *testing.T) {
	s := "nfs:xo-pool-metadata-backups/" + metaSched + "/" + metaPool + "/20261129T010000Z"
	id, err := catalog.ParsePoolMetaID(s)
	if err != nil || id.String() != s || id.Key("data") != strings.TrimPrefix(s, "nfs:")+"/data" {
		t.Fatalf("ParsePoolMetaID(%q) = %+v, %v", s, id, err)
	}
	for _, bad := range []string{
		"nfs:xo-vm-backups/" + metaSched + "/" + metaPool + "/20261129T010000Z",
		"nfs:xo-pool-metadata-backups/" + metaSched + "/../20261129T010000Z",
		"nfs:xo-pool-metadata-backups/" + metaSched + "/" + metaPool + "/20261129T010000Z/data",
		"nfs:xo-pool-metadata-backups/nightly/" + metaPool + "/20261129T010000Z",
		"xo-pool-metadata-backups/" + metaSched + "/" + metaPool + "/20261129T010000Z",
	} {
		if _, err := catalog.ParsePoolMetaID(bad); !errors.Is(err, catalog.ErrInvalidID) {
			t.Errorf("ParsePoolMetaID(%q) = %v, want ErrInvalidID", bad, err)
		}
	}
}

func TestPoolMetaBeyond(t *testing.T) {
	var ids []catalog.PoolMetaID
	base := time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
	for _, d := range []int{3, 1, 4, 2} {
		ids = append(ids, catalog.PoolMetaID{Time: base.AddDate(0, 0, d)})
	}
	old := catalog.PoolMetaBeyond(ids, 2)
	if len(old) != 2 || old[0].Time.Day() != 2 || old[1].Time.Day() != 3 {
		t.Fatalf("beyond 2 = %v, want days 2 and 3", old)
	}
	if got := catalog.PoolMetaBeyond(ids, 4); len(got) != 0 {
		t.Fatalf("beyond 4 of 4 = %v", got)
	}
}

func putText(t *testing.T, r remote.Remote, key, body string) {
	t.Helper()
	u, err := r.Create(context.Background(), key, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(u, body); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A backup is listed once its metadata.json is committed, with XO's fields
// read back; deleting it unlists it and leaves no file of its folder.
func TestPoolMetaListAndDelete(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	r, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)
	id, err := catalog.NewPoolMetaID("nfs", metaSched, metaPool, ts)
	if err != nil {
		t.Fatal(err)
	}
	putText(t, r, id.Key(catalog.PoolMetaData), "<database/>")
	if got, _, _ := catalog.ListPoolMeta(ctx, r); len(got) != 0 {
		t.Fatalf("listed without its metadata.json: %+v", got)
	}
	m := catalog.PoolMetadata{JobID: "j", JobName: "pooldb", Pool: json.RawMessage(`{"name_label":"lab"}`),
		PoolMaster: json.RawMessage(`{}`), ScheduleID: metaSched, ScheduleName: "nightly", Timestamp: ts.UnixMilli(),
		Version: catalog.PoolMetadataVersion}
	if err := catalog.CommitPoolMeta(ctx, r, id, m); err != nil {
		t.Fatal(err)
	}
	got, problems, err := catalog.ListPoolMeta(ctx, r)
	if err != nil || len(problems) != 0 || len(got) != 1 {
		t.Fatalf("list = %+v, %v, %v", got, problems, err)
	}
	if b := got[0]; b.ID != id.String() || b.PoolName != "lab" || b.Job != "pooldb" || !b.Timestamp.Equal(ts) || b.Mode != "metadata" {
		t.Fatalf("listed %+v", b)
	}
	if err := catalog.DeletePoolMeta(ctx, r, id); err != nil {
		t.Fatal(err)
	}
	if left, _ := r.List(ctx, catalog.PoolMetadataDir+"/"); len(left) != 0 {
		t.Fatalf("left after delete: %+v", left)
	}
	if _, err := os.Stat(filepath.Join(root, id.Dir())); !os.IsNotExist(err) {
		t.Fatalf("the backup's folder is still there (XO would count it): %v", err)
	}
}

// FuzzParsePoolMetaID: an accepted id prints back to itself and its keys stay
// under xo-pool-metadata-backups/.
func FuzzParsePoolMetaID(f *testing.F) {
	f.Add("nfs:xo-pool-metadata-backups/" + metaSched + "/" + metaPool + "/20261129T010000Z")
	f.Add("nfs:xo-pool-metadata-backups/../x/20261129T010000Z")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := catalog.ParsePoolMetaID(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("%q parsed to %q", s, id.String())
		}
		key := id.Key(catalog.PoolMetaData)
		if !strings.HasPrefix(key, catalog.PoolMetadataDir+"/") || remote.ValidateKey(key) != nil {
			t.Fatalf("%q gives key %q", s, key)
		}
	})
}
