package catalog_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
)

// The NFS share written through the dir remote and read through the S3 gateway in front of
// it lists the same backups, and the S3 side also skips data files without a .json.
func TestListThroughS3Gateway(t *testing.T) {
	ctx := context.Background()
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	share, err := dir.New("nfs", filepath.Join(g.Root, "backups"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 3 {
		id := put(t, share, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Duration(i) * time.Hour), xbr: true})
		want = append([]string{strings.Replace(id.String(), "nfs:", "gateway:", 1)}, want...)
	}
	remotetest.PutBytes(t, share, "xo-vm-backups/"+vmA+"/20260302T000000Z.xva", []byte("no json"))

	gw, err := s3.New(ctx, s3.Config{Name: "gateway", Endpoint: g.Endpoint, Bucket: "backups",
		AccessKey: g.AccessKey, SecretKey: g.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	got, problems, err := catalog.List(ctx, gw, catalog.Filter{VM: vmA})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idStrings(got), want) || len(problems) != 0 {
		t.Errorf("listed %v (problems %v), want %v", idStrings(got), problems, want)
	}
	if len(got) > 0 && (got[0].Remote != "gateway" || got[0].VMName != "web" || got[0].Codec != "gzip") {
		t.Errorf("newest = %+v", got[0])
	}
}

// BenchmarkListVM500S3 lists one VM folder of 500 backups through the S3 gateway: one GET
// per .json without a cache, one GET in all with a fresh cache.json.gz (…Cached).
func BenchmarkListVM500S3(b *testing.B)       { benchListS3(b, false) }
func BenchmarkListVM500S3Cached(b *testing.B) { benchListS3(b, true) }

func benchListS3(b *testing.B, cached bool) {
	ctx := context.Background()
	g := s3test.Start(b)
	g.NewBucket(b, "backups")
	writeBackups(b, filepath.Join(g.Root, "backups"), 1, 500)
	gw, err := s3.New(ctx, s3.Config{Name: "gateway", Endpoint: g.Endpoint, Bucket: "backups",
		AccessKey: g.AccessKey, SecretKey: g.SecretKey})
	if err != nil {
		b.Fatal(err)
	}
	if cached {
		catalogtest.WriteXOCache(b, gw, benchVM(0))
	}
	b.ReportAllocs()
	for b.Loop() {
		got, problems, err := catalog.List(ctx, gw, catalog.Filter{VM: benchVM(0)})
		if err != nil || len(problems) > 0 || len(got) != 500 {
			b.Fatalf("listed %d, %v %v", len(got), problems, err)
		}
	}
}
