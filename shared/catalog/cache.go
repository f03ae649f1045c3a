package catalog

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"xbr/shared/remote"
)

// CacheName is Xen Orchestra's listing cache in each VM folder.
const CacheName = "cache.json.gz"

// MaxCacheSize bounds a decompressed cache.json.gz: 500 backups of XO-sized metadata (two
// full XAPI records each) take about 10 MiB.
const MaxCacheSize = 256 << 20

// ErrInvalidCache is wrapped by every ParseCache error.
var ErrInvalidCache = errors.New("invalid backup cache")

// CacheKey is the key of vm's cache.json.gz.
func CacheKey(vmUUID string) string { return VMPrefix(vmUUID) + CacheName }

// cacheEntryKey is how XO names a backup in its cache: the .json's path on the remote,
// normalized with a leading slash ("/xo-vm-backups/<vm>/<ts>.json").
func cacheEntryKey(metaKey string) string { return "/" + metaKey }

// Cache is the content of a cache.json.gz: for each metadata file of the VM folder (by XO's
// key, see cacheEntryKey), the metadata object as XO read it plus "_filename" and "id"
// (both the key) and "isImmutable".
type Cache map[string]json.RawMessage

// ParseCache decodes a cache.json.gz of vm's folder: gzip of a JSON object whose keys are
// "/xo-vm-backups/<vm>/<name>.json" and whose values are JSON objects. It reads at most
// MaxCacheSize decompressed bytes. The error names the key or value that is wrong.
func ParseCache(r io.Reader, vmUUID string) (Cache, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %w", ErrInvalidCache, err)
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, MaxCacheSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %w", ErrInvalidCache, err)
	}
	if len(data) > MaxCacheSize {
		return nil, fmt.Errorf("%w: larger than %d bytes once decompressed", ErrInvalidCache, MaxCacheSize)
	}
	var c Cache
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCache, describeJSONError(err))
	}
	if c == nil {
		return nil, fmt.Errorf("%w: want a JSON object, got null", ErrInvalidCache)
	}
	prefix := "/" + VMPrefix(vmUUID)
	for k, v := range c {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok || !strings.HasSuffix(name, MetaSuffix) || strings.Contains(name, "/") {
			return nil, fmt.Errorf("%w: key %.120q: want %s<name>.json", ErrInvalidCache, k, prefix)
		}
		if err := validateRecord("entry "+k, v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCache, err)
		}
	}
	return c, nil
}

// Encode returns the cache as XO writes it: gzip (default level) of the JSON object.
func (c Cache) Encode() ([]byte, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode backup cache: %w", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(js); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cacheEntry builds the cache value of the metadata file metaKey whose bytes are data, as
// XO's listing builds it: the object, plus _filename and id (the entry's key) and
// isImmutable. It fails where XO's readVmBackupMetadata fails: not a JSON object, or no
// "vm" object in it.
func cacheEntry(metaKey string, data []byte) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%s: not a JSON object", metaKey)
	}
	if err := validateRecord("vm", obj["vm"]); err != nil {
		return nil, fmt.Errorf("%s: %w", metaKey, err)
	}
	key, _ := json.Marshal(cacheEntryKey(metaKey))
	obj["_filename"], obj["id"], obj["isImmutable"] = key, key, json.RawMessage("false")
	return json.Marshal(obj)
}

// folderMeta returns the metadata files of one VM folder, as XO's listing sees them: the
// files directly in it whose name ends in .json.
func folderMeta(infos []remote.Info, vmUUID string) []remote.Info {
	prefix := VMPrefix(vmUUID)
	var out []remote.Info
	for _, in := range infos {
		name, ok := strings.CutPrefix(in.Key, prefix)
		if ok && strings.HasSuffix(name, MetaSuffix) && !strings.Contains(name, "/") {
			out = append(out, in)
		}
	}
	return out
}

// CacheStore is what RefreshCache needs from a remote; every remote.Remote has it.
type CacheStore interface {
	Lister
	Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error)
	Delete(ctx context.Context, key string) error
}

// RefreshCache makes vm's cache.json.gz on r tell the truth after xbr changed the folder
// (a backup written, pruned, swept or deleted). Xen Orchestra trusts the cache over the
// folder, so a stale one hides new backups from XO and lists deleted ones.
//
// The cache is updated in place, never created: when there is none, XO builds it from the
// folder on its next listing. Entries whose .json is gone are dropped; a .json that has no
// entry is read and added the way XO adds it; other entries are kept as they are. A cache
// that cannot be read or parsed is deleted, so XO regenerates it. The new cache replaces
// the old one atomically (a temp file and a rename on a directory, one PUT on S3).
//
// The caller holds the VM folder's lock where the remote has one (see remote.Locker).
func RefreshCache(ctx context.Context, r CacheStore, vmUUID string) error {
	if err := ValidateVMUUID(vmUUID); err != nil {
		return fmt.Errorf("refresh backup cache: %w", err)
	}
	infos, err := FolderFiles(ctx, r, vmUUID)
	if err != nil {
		return fmt.Errorf("refresh backup cache of %s: %w", vmUUID, err)
	}
	if !slices.ContainsFunc(infos, func(in remote.Info) bool { return in.Key == CacheKey(vmUUID) }) {
		return nil
	}
	old, err := readCache(ctx, r, vmUUID)
	if err != nil {
		if derr := r.Delete(ctx, CacheKey(vmUUID)); derr != nil {
			return fmt.Errorf("remove unreadable backup cache (%w): %w", err, derr)
		}
		return nil
	}
	fresh, changed, err := truthOf(ctx, r, old, folderMeta(infos, vmUUID))
	if err != nil || !changed {
		return err
	}
	return writeCache(ctx, r, vmUUID, fresh)
}

// truthOf returns the cache for the metadata files metas, reusing old's entries.
func truthOf(ctx context.Context, r Opener, old Cache, metas []remote.Info) (Cache, bool, error) {
	fresh := make(Cache, len(metas))
	for _, in := range metas {
		k := cacheEntryKey(in.Key)
		if v, ok := old[k]; ok {
			fresh[k] = v
			continue
		}
		data, err := readSmall(ctx, r, in.Key)
		if errors.Is(err, remote.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, false, fmt.Errorf("refresh backup cache: read %s: %w", in.Key, err)
		}
		if v, err := cacheEntry(in.Key, data); err == nil {
			fresh[k] = v
		} // XO leaves a .json it cannot read out of its cache too
	}
	return fresh, len(fresh) != len(old) || !sameKeys(fresh, old), nil
}

func sameKeys(a, b Cache) bool {
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return len(a) == len(b)
}

func readCache(ctx context.Context, r Opener, vmUUID string) (Cache, error) {
	rc, err := r.Open(ctx, CacheKey(vmUUID))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return ParseCache(rc, vmUUID)
}

func readSmall(ctx context.Context, r Opener, key string) ([]byte, error) {
	rc, err := r.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, MaxMetadataSize))
}

func writeCache(ctx context.Context, r CacheStore, vmUUID string, c Cache) error {
	data, err := c.Encode()
	if err != nil {
		return err
	}
	key := CacheKey(vmUUID)
	if err := putSmall(ctx, r, key, data); err != nil {
		if derr := r.Delete(ctx, key); derr != nil { // a stale cache must not stay
			return fmt.Errorf("backup cache: %w (and removing it: %w)", err, derr)
		}
	}
	return nil
}

// cacheInfo finds vm's cache.json.gz among a listing.
func cacheInfo(infos []remote.Info, vmUUID string) (remote.Info, bool) {
	key := CacheKey(vmUUID)
	for _, in := range infos {
		if in.Key == key {
			return in, true
		}
	}
	return remote.Info{}, false
}
