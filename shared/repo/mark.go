package repo

import (
	"context"
	"errors"
	"fmt"
	"io"

	"xbr/shared/remote"
)

// markedManifest is a manifest as the mark phase saw it.
type markedManifest struct {
	size int64
	mod  int64
}

// mark spools the chunk ids of every manifest not in seen (or changed since), and records
// them in seen. A manifest deleted meanwhile is skipped; one that cannot be read stops the
// mark: its chunks would be unknown.
func (rp *Repo) mark(ctx context.Context, spool *refSpool, seen map[string]markedManifest) (int, error) {
	infos, err := rp.r.List(ctx, vmsPrefix)
	if err != nil {
		return 0, fmt.Errorf("repository on remote %s: list manifests: %w", rp.r.Name(), err)
	}
	m := &refMarker{spool: spool}
	defer m.skip()
	n := 0
	for _, in := range infos {
		p, ok := parseManifestKey(in.Key)
		if !ok {
			continue
		}
		mm := markedManifest{size: in.Size, mod: in.ModTime.UnixNano()}
		if old, ok := seen[in.Key]; ok && old == mm {
			m.skip()
			continue
		}
		err := m.point(ctx, rp, p)
		if errors.Is(err, remote.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		seen[in.Key] = mm
		n++
	}
	return n, nil
}

// eachRef calls fn for every non-zero chunk id of p's manifest (disk index, chunk index),
// in order.
func (rp *Repo) eachRef(ctx context.Context, p Point, fn func(disk int, chunk int64, id ChunkID) error) error {
	return rp.walkRefs(ctx, p, false, fn)
}

// walkRefs is eachRef; with digests it also checks each disk's image digest against its
// chunk list (the chunks' SHA-256s in order, which the manifest holds: no chunk is read),
// as a restore would at the disk's end: a mismatch wraps ErrCorrupt.
func (rp *Repo) walkRefs(ctx context.Context, p Point, digests bool, fn func(disk int, chunk int64, id ChunkID) error) error {
	mr, closer, err := rp.openManifest(ctx, p)
	if err != nil {
		return err
	}
	defer closer.Close()
	for {
		disk, err := mr.nextDisk()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("restore point %s: %w", p, err)
		}
		d := mr.m.Disks[disk]
		ih := newImageHash()
		for k := int64(0); ; k++ {
			if k%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			e, err := mr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("restore point %s: %w", p, err)
			}
			if digests {
				ih.add(rp.entrySum(e, chunkLen(d.Size, d.ChunkSize, k)))
			}
			if e.id == zeroID {
				continue
			}
			if err := fn(disk, k, e.id); err != nil {
				return err
			}
		}
		if got := ih.String(); digests && got != d.ImageDigest {
			return fmt.Errorf("restore point %s: %w: disk %q: its chunk list gives image digest %s, the manifest says %s (a restore would fail)",
				p, ErrCorrupt, d.Name, got, d.ImageDigest)
		}
	}
}
