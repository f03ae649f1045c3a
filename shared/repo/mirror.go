package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"xbr/shared/remote"
)

// ErrIncompatible: two repositories cut, name or encrypt chunks differently, so a restore
// point cannot be copied from one to the other as stored (re-chunking is not done).
var ErrIncompatible = errors.New("the repositories cut, name or encrypt chunks differently")

// Compatible checks that chunks and manifests stored under src's configuration are valid
// as they are under dst's: same chunk size, same chunk ids, same encryption (the same salt,
// so the same derived keys). It is what a mirror needs; the error names what differs.
func Compatible(src, dst Config) error {
	switch {
	case src.ChunkSize != dst.ChunkSize:
		return fmt.Errorf("%w: chunk_size %d on the target, %d on the source", ErrIncompatible, dst.ChunkSize, src.ChunkSize)
	case src.ChunkID != dst.ChunkID:
		return fmt.Errorf("%w: chunk_id %q on the target, %q on the source", ErrIncompatible, dst.ChunkID, src.ChunkID)
	case (src.Encryption == nil) != (dst.Encryption == nil):
		return fmt.Errorf("%w: one is encrypted, the other is not", ErrIncompatible)
	case src.Encryption != nil && *src.Encryption != *dst.Encryption:
		return fmt.Errorf("%w: encrypted with other keys or salts (a mirror target must be created as the source's mirror)", ErrIncompatible)
	}
	return nil
}

// InitMirror creates on r the repository a mirror of src writes to: it cuts, names and
// encrypts chunks as src does (its configuration, salt included), so chunks and manifests
// are copied as stored. k is the key of src (the zero Key when src is plain).
func InitMirror(ctx context.Context, r remote.Remote, src *Repo, k Key, opts ...Option) (*Repo, error) {
	if _, err := r.Stat(ctx, ConfigKey); err == nil {
		return nil, fmt.Errorf("repository on remote %s: %s exists already", r.Name(), ConfigKey)
	} else if !errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("repository on remote %s: %w", r.Name(), err)
	}
	if _, err := src.cfg.codec(k, 1); err != nil { // refuse before writing anything
		return nil, fmt.Errorf("repository on remote %s as the mirror of remote %s: %w", r.Name(), src.r.Name(), err)
	}
	cfg := src.cfg
	cfg.Created = newOptions(opts).now().UTC().Truncate(1e9)
	data, err := jsonIndent(cfg)
	if err != nil {
		return nil, err
	}
	if err := remote.Put(ctx, r, ConfigKey, data); err != nil {
		return nil, fmt.Errorf("repository on remote %s: write config: %w", r.Name(), err)
	}
	return Open(ctx, r, k, opts...)
}

// CopyStats says what copying one restore point did.
type CopyStats struct {
	Present      bool  // the target had the point already: nothing was copied
	ChunksCopied int   // chunks the target lacked
	ChunksHad    int   // references to chunks the target had (found, or named there: see CopyPoint)
	BytesCopied  int64 // stored bytes written to the target, manifest included
}

// CopyPoint copies restore point p from src to dst as stored: first the chunks dst lacks,
// each checked against its id on the way (a damaged chunk stops the copy), then dst's
// durability barrier (the names of the chunks copied and of those found there), then the
// manifest, last, so the point exists on dst only once whole. A lease on dst keeps its GC
// from sweeping the chunks copied before the manifest names them, and those of the point
// of p's VM on dst nearest p, which the copy relies on as a backup on its base: a chunk
// that point names at the same place is not asked about (targetBase), so a copy asks dst
// about the chunks that changed, not about every chunk. Copying a point dst has already
// does nothing; a copy cut short leaves only unreferenced chunks, which the next copy
// re-uses and dst's GC otherwise removes.
func CopyPoint(ctx context.Context, src, dst *Repo, p Point) (CopyStats, error) {
	return CopyPointEach(ctx, src, dst, p, nil)
}

// CopyPointEach is CopyPoint calling each (when not nil) after every chunk reference is
// done, from the copying goroutines and the one walking p: a long copy's caller renews
// its locks there.
func CopyPointEach(ctx context.Context, src, dst *Repo, p Point, each func()) (CopyStats, error) {
	var st CopyStats
	if err := Compatible(src.cfg, dst.cfg); err != nil {
		return st, fmt.Errorf("copy restore point %s to remote %s: %w", p, dst.r.Name(), err)
	}
	if err := p.Validate(); err != nil {
		return st, err
	}
	if _, err := dst.r.Stat(ctx, p.key()); err == nil {
		st.Present = true
		return st, nil
	} else if !errors.Is(err, remote.ErrNotFound) {
		return st, fmt.Errorf("copy restore point %s: %w", p, err)
	}
	body, _ := json.Marshal(map[string]string{"mirror": p.String(), "from": src.r.Name()})
	l, err := dst.beginSession(ctx, sessionsPrefix, body)
	if err != nil {
		return st, err
	}
	defer l.release(ctx)
	batch, err := remote.NewBatch(ctx, dst.r)
	if err != nil {
		return st, fmt.Errorf("copy restore point %s to remote %s: %w", p, dst.r.Name(), err)
	}
	defer batch.Close()
	base := dst.openTargetBase(ctx, p) // under the lease: see targetBase
	defer base.close()
	err = src.copyChunks(ctx, batch, p, base, &st, each)
	if err == nil { // every chunk the manifest names durable first, as Backup.Commit does
		err = batch.Barrier(ctx)
	}
	if err == nil {
		err = src.copyManifest(ctx, dst, p, l, &st)
	}
	if err != nil {
		return st, fmt.Errorf("copy restore point %s from remote %s to %s: %w", p, src.r.Name(), dst.r.Name(), err)
	}
	return st, l.release(ctx)
}

// copyChunks copies the chunks of p that dst lacks, up to src's concurrency at once (each
// copy is a read, a check and a write: one at a time, a remote's latency, an S3 round trip,
// set the pace). A chunk base names at the same place is on dst: it is neither asked about
// nor copied. A chunk named again while its copy is under way waits for that copy instead
// of making its own. The first error stops the others and is returned.
func (rp *Repo) copyChunks(ctx context.Context, dst remote.Batch, p Point, base *targetBase, st *CopyStats, each func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		first    error
		wg       sync.WaitGroup
		inflight = map[ChunkID]chan struct{}{} // at most concurrency of them
	)
	sem := make(chan struct{}, rp.opts.concurrency)
	err := rp.eachRef(ctx, p, func(disk int, k int64, id ChunkID) error {
		if base.has(disk, k, id) {
			mu.Lock()
			st.ChunksHad++
			mu.Unlock()
			if each != nil {
				each()
			}
			return nil
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if each != nil {
				defer each()
			}
			mu.Lock()
			if busy, ok := inflight[id]; ok {
				mu.Unlock()
				select {
				case <-busy: // stored by then, or the copy failed and stops the rest
				case <-ctx.Done():
				}
				mu.Lock()
				st.ChunksHad++
				mu.Unlock()
				return
			}
			done := make(chan struct{})
			inflight[id] = done
			mu.Unlock()
			var one CopyStats
			err := rp.copyChunk(ctx, dst, id, &one)
			mu.Lock()
			defer mu.Unlock()
			delete(inflight, id)
			close(done)
			if err != nil && first == nil {
				first = err
				cancel()
			}
			st.ChunksCopied += one.ChunksCopied
			st.ChunksHad += one.ChunksHad
			st.BytesCopied += one.BytesCopied
		}()
		return nil
	})
	wg.Wait()
	if first != nil {
		return first
	}
	return err
}

// copyChunk stores chunk id through dst unless it is there, after checking that it opens
// to its id on src. Found or stored, its name is durable once dst's Barrier returns.
func (rp *Repo) copyChunk(ctx context.Context, dst remote.Batch, id ChunkID, st *CopyStats) error {
	if _, err := dst.Stat(ctx, chunkKey(id)); err == nil {
		st.ChunksHad++
		return nil
	} else if !errors.Is(err, remote.ErrNotFound) {
		return fmt.Errorf("chunk %s: %w", id, err)
	}
	stored, err := rp.readStored(ctx, chunkKey(id), int64(rp.cfg.ChunkSize)+1<<16)
	if err != nil {
		return fmt.Errorf("chunk %s: %w", id, err)
	}
	if _, err := rp.codec.open(nil, id, stored); err != nil {
		return fmt.Errorf("chunk %s on the source: %w", id, err)
	}
	if err := dst.Put(ctx, chunkKey(id), stored); err != nil {
		return fmt.Errorf("chunk %s: %w", id, err)
	}
	st.ChunksCopied++
	st.BytesCopied += int64(len(stored))
	return nil
}

// readStored reads the object at key as stored, refusing more than limit bytes.
func (rp *Repo) readStored(ctx context.Context, key string, limit int64) ([]byte, error) {
	rc, err := rp.r.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	if n, err := b.ReadFrom(io.LimitReader(rc, limit+1)); err != nil {
		return nil, err
	} else if n > limit {
		return nil, fmt.Errorf("%w: %s larger than %d bytes", ErrCorrupt, key, limit)
	}
	return b.Bytes(), nil
}

// copyManifest streams p's manifest as stored to dst, committing it only while the lease
// holds.
func (rp *Repo) copyManifest(ctx context.Context, dst *Repo, p Point, l *lease, st *CopyStats) error {
	info, err := rp.r.Stat(ctx, p.key())
	if err != nil {
		return err
	}
	rc, err := rp.r.Open(ctx, p.key())
	if err != nil {
		return err
	}
	defer rc.Close()
	u, err := dst.r.Create(ctx, p.key(), info.Size)
	if err != nil {
		return err
	}
	defer u.Abort(ctx)
	n, err := io.Copy(u, rc)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if n != info.Size {
		return fmt.Errorf("manifest: %d bytes read, %d listed", n, info.Size)
	}
	if err := l.confirm(ctx); err != nil { // the remote's clock too, right before
		return err
	}
	if err := dst.commitUnderLease(ctx, u, p.key(), l.fresh); err != nil {
		return err
	}
	st.BytesCopied += n
	return nil
}
