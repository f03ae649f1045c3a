package catalog_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote"
	"xbr/shared/remote/remotetest"
)

// countingRemote counts the objects opened.
type countingRemote struct {
	remote.Remote
	opens atomic.Int64
}

func (c *countingRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Remote.Open(ctx, key)
}

// With a fresh cache.json.gz written the way XO writes it, a listing reads the cache once
// instead of every .json, and lists the same backups with the same fields.
func TestListUsesFreshCache(t *testing.T) {
	ctx := context.Background()
	r := &countingRemote{Remote: newDir(t, "nfs")}
	for i := range 5 {
		put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Duration(i) * time.Hour), xbr: i%2 == 0})
	}
	put(t, r, backup{vm: vmB, name: "db", job: "j", schedule: "s", at: t0})
	uncached, _, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	catalogtest.WriteXOCache(t, r, vmA)
	r.opens.Store(0)
	cached, problems, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	if n := r.opens.Load(); n != 3 { // encryption.json (absent), vmA's cache, vmB's only .json
		t.Errorf("%d objects opened, want 3 (encryption.json, the cache and one .json)", n)
	}
	if !slices.EqualFunc(cached, uncached, func(a, b catalog.Backup) bool { return a == b }) {
		t.Errorf("from the cache:\n%+v\nfrom the files:\n%+v", cached, uncached)
	}
}

// A cache that does not name exactly the folder's .json files, or is older than one of
// them, is not used: the listing reads the files and shows the truth.
func TestListIgnoresStaleCache(t *testing.T) {
	ctx := context.Background()
	r := &countingRemote{Remote: newDir(t, "nfs")}
	first := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0})
	catalogtest.WriteXOCache(t, r, vmA)
	added := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Hour)})
	got, _, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil || !slices.Equal(idStrings(got), []string{added.String(), first.String()}) {
		t.Fatalf("after an add behind the cache's back: %v %v", idStrings(got), err)
	}
	catalogtest.WriteXOCache(t, r, vmA)
	if err := catalog.Delete(ctx, r, first); err != nil {
		t.Fatal(err)
	}
	got, _, err = catalog.List(ctx, r, catalog.Filter{})
	if err != nil || !slices.Equal(idStrings(got), []string{added.String()}) {
		t.Fatalf("after a delete behind the cache's back: %v %v", idStrings(got), err)
	}
	remotetest.PutBytes(t, r, catalog.CacheKey(vmA), []byte("not gzip"))
	got, _, err = catalog.List(ctx, r, catalog.Filter{})
	if err != nil || !slices.Equal(idStrings(got), []string{added.String()}) {
		t.Fatalf("with a broken cache: %v %v", idStrings(got), err)
	}
}

// RefreshCache leaves XO's listing (cache first) equal to the .json files on disk after an
// add and a delete; it creates no cache where there is none, and removes one it cannot read.
func TestRefreshCache(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	first := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0, xbr: true})
	if err := catalog.RefreshCache(ctx, r, vmA); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stat(ctx, catalog.CacheKey(vmA)); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("a cache was created: %v", err)
	}
	catalogtest.WriteXOCache(t, r, vmA)
	second := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Hour), xbr: true})
	assertXOSeesDisk(t, r, vmA, false)
	if err := catalog.RefreshCache(ctx, r, vmA); err != nil {
		t.Fatal(err)
	}
	assertXOSeesDisk(t, r, vmA, true)
	entries, _ := catalogtest.XOCacheEntries(t, r, vmA)
	e := entries["/"+second.MetaKey()]
	if e["_filename"] != "/"+second.MetaKey() || e["id"] != e["_filename"] || e["mode"] != "full" || e["isImmutable"] != false {
		t.Errorf("entry added by xbr: %v", e)
	}
	if err := catalog.Delete(ctx, r, first); err != nil {
		t.Fatal(err)
	}
	if err := catalog.RefreshCache(ctx, r, vmA); err != nil {
		t.Fatal(err)
	}
	assertXOSeesDisk(t, r, vmA, true)
	remotetest.PutBytes(t, r, catalog.CacheKey(vmA), []byte("{}"))
	if err := catalog.RefreshCache(ctx, r, vmA); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stat(ctx, catalog.CacheKey(vmA)); !errors.Is(err, remote.ErrNotFound) {
		t.Errorf("an unreadable cache was left: %v", err)
	}
}

// assertXOSeesDisk checks whether XO's listing rules give the .json files on disk.
func assertXOSeesDisk(t *testing.T, r remote.Remote, vm string, want bool) {
	t.Helper()
	xo, disk := catalogtest.XOListing(t, r, vm), catalogtest.MetadataOnDisk(t, r, vm)
	if slices.Equal(xo, disk) != want {
		t.Errorf("XO lists %v, disk holds %v (want equal: %v)", xo, disk, want)
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

// Each broken cache gives an error naming what is wrong.
func TestParseCacheRejects(t *testing.T) {
	key := "/xo-vm-backups/" + vmA + "/20260301T020000Z.json"
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("{}"), "gzip"},
		{"not json", gz("{"), "invalid backup cache"},
		{"null", gz("null"), "null"},
		{"array", gz("[]"), "array"},
		{"other vm", gz(`{"/xo-vm-backups/` + vmB + `/20260301T020000Z.json":{}}`), "key"},
		{"no leading slash", gz(`{"` + key[1:] + `":{}}`), "key"},
		{"not json file", gz(`{"/xo-vm-backups/` + vmA + `/x.xva":{}}`), "key"},
		{"nested", gz(`{"/xo-vm-backups/` + vmA + `/vdis/a.json":{}}`), "key"},
		{"entry not object", gz(`{"` + key + `":1}`), "entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := catalog.ParseCache(bytes.NewReader(tc.data), vmA)
			if !errors.Is(err, catalog.ErrInvalidCache) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if c, err := catalog.ParseCache(bytes.NewReader(gz(`{"`+key+`":{"mode":"full"}}`)), vmA); err != nil || len(c) != 1 {
		t.Errorf("valid cache: %v %v", c, err)
	}
}

func FuzzParseCache(f *testing.F) {
	f.Add(gz(`{"/xo-vm-backups/` + vmA + `/20260301T020000Z.json":{"mode":"full"}}`))
	f.Add(gz("{}"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := catalog.ParseCache(bytes.NewReader(data), vmA)
		if err != nil {
			return
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := catalog.ParseCache(bytes.NewReader(enc), vmA); err != nil {
			t.Fatalf("re-encoded cache does not parse: %v", err)
		}
	})
}

// The listing's one-pass decoder of a cache never panics and only accepts entries for files
// on disk.
func FuzzDecodeCacheMetadata(f *testing.F) {
	key := "/xo-vm-backups/" + vmA + "/20260301T020000Z.json"
	f.Add(gz(`{"` + key + `":{"mode":"full","vm":{"uuid":"` + vmA + `"}}}`))
	f.Add(gz(`{"` + key + `":1}`))
	f.Add(gz(`{"/elsewhere.json":{}}`))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := catalog.DecodeCacheMetadata(bytes.NewReader(data), map[string]bool{key: true})
		if err != nil {
			return
		}
		for k := range got {
			if k != key {
				t.Fatalf("accepted an entry for %q, not on disk", k)
			}
		}
	})
}
