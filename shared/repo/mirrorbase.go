package repo

import (
	"context"
	"errors"
	"io"
	"sort"

	"xbr/shared/remote"
)

// targetBase is the committed restore point on a mirror's target that a copy relies on,
// as a backup relies on its base: a chunk id its manifest names at the disk and index where
// the point being copied names it is on the target, and stays there until the copy's
// manifest names it too; the copy does not ask the target about it.
//
// Why that is safe is the argument for a backup's base (doc.go, "GC and backups"): the
// manifest is listed and read only once the copy's lease on the target is held; a
// committed manifest's chunks were durable before it was, and a sweep removes none of
// them while it exists (the sweep marked it, or the lease of the writer committing it
// deferred the sweep); no sweep starts while the copy's lease holds, even if the point is
// deleted meanwhile (beginSession and beginSweep exclude each other); and the copy's
// manifest is committed under that lease (commitUnderLease), so the next GC's mark finds
// the chunks named again. A point deleted before the lease is not listed, so not relied on.
//
// Its entries are read forward as the copy walks its own (increasing disk, then index),
// one at a time: its memory does not grow with the chunks. It only spares questions:
// whatever goes wrong finding or reading it, the copy asks the target about the chunks
// left, as it does with no base.
type targetBase struct {
	rp     *Repo // the target
	copied Point // the point being copied
	point  Point // the point relied on
	mr     *manifestReader
	closer io.Closer
	disk   int   // the disk mr reads; -1 before the first
	pos    int64 // the index of the entry mr.next returns
}

// openTargetBase opens the point of p's VM on rp (a mirror's target) nearest before p
// (else the nearest after it), or returns nil when there is none or it cannot be read. The
// caller holds its lease on rp (beginSession) from before this call until its manifest is
// committed.
func (rp *Repo) openTargetBase(ctx context.Context, p Point) *targetBase {
	points, err := rp.List(ctx, p.VM)
	if err != nil {
		rp.baseUnused(p, Point{}, err)
		return nil
	}
	base, ok := nearestPoint(points, p)
	if !ok {
		return nil
	}
	mr, closer, err := rp.openManifest(ctx, base)
	if errors.Is(err, remote.ErrNotFound) { // deleted since the listing
		return nil
	}
	if err != nil {
		rp.baseUnused(p, base, err)
		return nil
	}
	return &targetBase{rp: rp, copied: p, point: base, mr: mr, closer: closer, disk: -1}
}

// nearestPoint is the latest of points (one VM's, oldest first) before p, else the
// earliest after it.
func nearestPoint(points []PointInfo, p Point) (Point, bool) {
	i := sort.Search(len(points), func(i int) bool { return !points[i].Time.Before(p.Time) })
	if i > 0 {
		return points[i-1].Point, true
	}
	for ; i < len(points); i++ {
		if points[i].Time.After(p.Time) {
			return points[i].Point, true
		}
	}
	return Point{}, false
}

// has reports whether the base names id at chunk k of disk. Calls come in increasing
// (disk, k) order, from one goroutine. b may be nil (no base: false).
func (b *targetBase) has(disk int, k int64, id ChunkID) bool {
	if b == nil || b.mr == nil {
		return false
	}
	if disk != b.disk {
		if disk < b.disk || disk >= len(b.mr.m.Disks) {
			return false
		}
		if err := b.mr.seekDisk(disk); err != nil {
			b.stop(err)
			return false
		}
		b.disk, b.pos = disk, 0
	}
	if k < b.pos || k >= b.mr.m.Disks[disk].Chunks {
		return false
	}
	for {
		e, err := b.mr.next()
		if err != nil {
			b.stop(err)
			return false
		}
		b.pos++
		if b.pos > k {
			return e.id == id
		}
	}
}

// stop gives the base up after an error reading it: the copy asks about the chunks left.
func (b *targetBase) stop(err error) {
	b.rp.baseUnused(b.copied, b.point, err)
	b.close()
}

// close ends the reading of the base; b may be nil.
func (b *targetBase) close() {
	if b == nil || b.mr == nil {
		return
	}
	b.closer.Close()
	b.mr = nil
}

// baseUnused logs why a copy of p asks the target about each chunk (left); base is the
// zero Point when none was found.
func (rp *Repo) baseUnused(p, base Point, err error) {
	name := ""
	if base.VM != "" {
		name = base.String()
	}
	rp.opts.log.Warn("mirror copy asks the target about each chunk: no point on the target to rely on",
		"remote", rp.r.Name(), "point", p.String(), "base", name, "err", err)
}
