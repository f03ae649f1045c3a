package catalog

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"xbr/shared/remote"
)

// readListed reads the metadata of ids: from a VM folder's cache.json.gz when it is fresh
// (one read instead of one per backup), else from each .json. Folders are read a few at a
// time, as files are.
func readListed(ctx context.Context, r Opener, infos []remote.Info, ids []ID) ([]readResult, error) {
	byVM := map[string][]int{}
	for i, id := range ids {
		byVM[id.VM] = append(byVM[id.VM], i)
	}
	results := make([]readResult, len(ids))
	var (
		mu   sync.Mutex
		rest []int
		wg   sync.WaitGroup
		sem  = make(chan struct{}, readers)
	)
	for vm, idx := range byVM {
		cache, ok := cacheInfo(infos, vm)
		if !ok {
			mu.Lock() // the folders' readers started already append to rest too
			rest = append(rest, idx...)
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, ok := fromCache(ctx, r, vm, cache, folderMeta(infos, vm), pick(ids, idx))
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				rest = append(rest, idx...)
				return
			}
			for j, i := range idx {
				results[i] = got[j]
			}
		})
	}
	wg.Wait()
	got, err := readAll(ctx, r, pick(ids, rest))
	if err != nil {
		return nil, err
	}
	for j, i := range rest {
		results[i] = got[j]
	}
	return results, nil
}

func pick(ids []ID, idx []int) []ID {
	out := make([]ID, len(idx))
	for j, i := range idx {
		out[j] = ids[i]
	}
	return out
}

// fromCache reads the backups ids of one VM folder from its cache when the cache is fresh:
// it is at least as new as every metadata file and names exactly the metadata files of the
// folder. ok is false when the cache is absent, unreadable or stale; the caller then reads
// the files.
func fromCache(ctx context.Context, r Opener, vmUUID string, cache remote.Info, metas []remote.Info, ids []ID) ([]readResult, bool) {
	onDisk := make(map[string]bool, len(metas))
	for _, in := range metas {
		if in.ModTime.After(cache.ModTime) {
			return nil, false
		}
		onDisk[cacheEntryKey(in.Key)] = true
	}
	rc, err := r.Open(ctx, CacheKey(vmUUID))
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	entries, err := decodeCacheMetadata(rc, onDisk)
	if err != nil || len(entries) != len(onDisk) {
		return nil, false
	}
	results := make([]readResult, len(ids))
	for i, id := range ids {
		e := entries[cacheEntryKey(id.MetaKey())]
		err := e.err
		if err == nil {
			err = matchesKey(id, e.m, e.vm)
		}
		if err == nil {
			results[i].backup = summarize(id, e.m, e.vm)
		}
		results[i].err = err
	}
	return results, true
}

type cachedMeta struct {
	m   Metadata
	vm  vmIdent
	err error // the entry is not a valid full backup (as the .json would not be)
}

// decodeCacheMetadata decodes a cache.json.gz in one pass, each entry straight into
// Metadata. It fails when the cache names a file that is not in onDisk, or is not a JSON
// object of objects.
func decodeCacheMetadata(r io.Reader, onDisk map[string]bool) (map[string]cachedMeta, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	dec := json.NewDecoder(io.LimitReader(zr, MaxCacheSize))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: want a JSON object", ErrInvalidCache)
	}
	out := make(map[string]cachedMeta, len(onDisk))
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok || !onDisk[key] {
			return nil, fmt.Errorf("%w: key %v not on disk", ErrInvalidCache, tok)
		}
		var m Metadata
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%w: entry %s: %w", ErrInvalidCache, key, err)
		}
		vm, err := m.validate()
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
		}
		out[key] = cachedMeta{m: m, vm: vm, err: err}
	}
	return out, nil
}
