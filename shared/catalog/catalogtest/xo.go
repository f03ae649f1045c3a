// Package catalogtest plays Xen Orchestra's side of a shared remote in tests: its listing
// rules for a VM folder (cache.json.gz first, else the folder, then the cache is written) and
// its on-disk cleanVm rules. It is written from XO's source (@xen-orchestra/backups
// RemoteAdapter.mjs listVmBackups, _readCacheListVmBackups, #getCacheableDataListVmBackups;
// @xen-orchestra/backup-archive VmBackupDirectory), independently of package catalog, so a
// test can check catalog against it.
package catalogtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"xbr/shared/remote"
)

// XOListing returns the metadata paths Xen Orchestra lists for vm on r, as
// "/xo-vm-backups/<vm>/<ts>.json", sorted: the keys of cache.json.gz when it exists and
// parses; otherwise every readable *.json directly in the folder, after which the cache is
// written the way XO writes it (WriteXOCache).
func XOListing(t testing.TB, r remote.Remote, vm string) []string {
	t.Helper()
	if c, ok := readXOCache(t, r, vm); ok {
		return sortedKeys(c)
	}
	return sortedKeys(WriteXOCache(t, r, vm))
}

// XOCacheEntries returns the entries of vm's cache.json.gz, or false when there is none.
func XOCacheEntries(t testing.TB, r remote.Remote, vm string) (map[string]map[string]any, bool) {
	t.Helper()
	return readXOCache(t, r, vm)
}

// WriteXOCache regenerates vm's cache.json.gz as XO does when it is missing: every *.json
// directly in the folder that parses as an object with a "vm" is read, given "_filename" and
// "id" (its path with a leading slash) and "isImmutable": false, and the object is gzipped.
func WriteXOCache(t testing.TB, r remote.Remote, vm string) map[string]map[string]any {
	t.Helper()
	ctx := context.Background()
	folder := "xo-vm-backups/" + vm + "/"
	infos, err := r.List(ctx, folder)
	if err != nil {
		t.Fatal(err)
	}
	cache := map[string]map[string]any{}
	for _, in := range infos {
		name := strings.TrimPrefix(in.Key, folder)
		if strings.Contains(name, "/") || !strings.HasSuffix(name, ".json") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(readAll(t, r, in.Key), &m); err != nil {
			continue // XO warns "can't read vm backup metadata" and goes on
		}
		if _, ok := m["vm"].(map[string]any); !ok {
			continue
		}
		path := "/" + in.Key
		m["_filename"], m["id"], m["isImmutable"] = path, path, false
		cache[path] = m
	}
	js, err := json.Marshal(cache)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(js)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	put(t, r, folder+"cache.json.gz", buf.Bytes())
	return cache
}

// MetadataOnDisk returns the *.json files directly in vm's folder, as XO names them.
func MetadataOnDisk(t testing.TB, r remote.Remote, vm string) []string {
	t.Helper()
	folder := "xo-vm-backups/" + vm + "/"
	infos, err := r.List(context.Background(), folder)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range infos {
		name := strings.TrimPrefix(in.Key, folder)
		if !strings.Contains(name, "/") && strings.HasSuffix(name, ".json") {
			out = append(out, "/"+in.Key)
		}
	}
	slices.Sort(out)
	return out
}

func readXOCache(t testing.TB, r remote.Remote, vm string) (map[string]map[string]any, bool) {
	t.Helper()
	rc, err := r.Open(context.Background(), "xo-vm-backups/"+vm+"/cache.json.gz")
	if errors.Is(err, remote.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return nil, false // XO warns and regenerates
	}
	var c map[string]map[string]any
	if err := json.NewDecoder(zr).Decode(&c); err != nil {
		return nil, false
	}
	return c, true
}

func readAll(t testing.TB, r remote.Remote, key string) []byte {
	t.Helper()
	rc, err := r.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func put(t testing.TB, r remote.Remote, key string, b []byte) {
	t.Helper()
	ctx := context.Background()
	u, err := r.Create(ctx, key, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys(c map[string]map[string]any) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
