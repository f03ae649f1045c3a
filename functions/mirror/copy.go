package mirror

import (
	"context"
	"errors"
	"slices"
	"strings"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/retention"
)

// pointID is a restore point's id on remote rem,
// <remote>:xbr-repo/<vm-uuid>/<YYYYMMDDTHHMMSSZ> (catalog.ID).
func pointID(rem string, p repo.Point) string {
	return catalog.ID{Remote: rem, VM: p.VM, Time: p.Time, Repo: true}.String()
}

// copyKept copies the kept points dst lacks, oldest first, renewing the
// run's lock (r.touch) before each and as its chunks are copied. It reports
// whether every kept point is on dst now: false when one was deleted on the
// source while it was being copied. Once the lock is taken over, ctx ends:
// the copy under way is abandoned (it leaves chunks no manifest names, which
// the target's GC removes, never a half-written point) and none is begun.
func (d Deps) copyKept(ctx context.Context, src, dst *repo.Repo, keep []retention.Item, onDst map[string]bool,
	all map[string]repo.Point, r *renewer, t *events.MirrorTarget) (bool, error) {
	touch := func() { r.touch(ctx) }
	complete := true
	for _, it := range slices.Backward(keep) {
		if onDst[it.ID] {
			continue
		}
		touch()
		st, err := repo.CopyPointEach(ctx, src, dst, all[it.ID], touch)
		t.ChunksCopied += int64(st.ChunksCopied)
		t.BytesCopied += st.BytesCopied
		if err != nil && gone(ctx, src, all[it.ID]) {
			d.Log.Info("restore point deleted on the source while mirrored; skipped", "point", it.ID, "err", err)
			complete = false // the source's retention removed it meanwhile: the next run decides without it
			continue
		}
		if err != nil {
			return false, err
		}
		if !st.Present {
			t.Copied = append(t.Copied, pointID(t.Remote, all[it.ID]))
		}
		onDst[it.ID] = true
	}
	return complete, nil
}

// gone reports whether point p is no longer on src (its manifest is
// missing), as opposed to a chunk of it being missing or damaged.
func gone(ctx context.Context, src *repo.Repo, p repo.Point) bool {
	_, err := src.Manifest(ctx, p)
	return errors.Is(err, remote.ErrNotFound)
}

// deleteRest deletes dst's points outside the retention, oldest first.
// Each deletion marks dst as due for a GC, which the prune function runs
// once the mirror run has ended (not once per VM: a GC reads every
// manifest of the repository). Every kept point is on dst by now
// (copyKept), so a newer point stands above each deletion.
func (d Deps) deleteRest(ctx context.Context, dst *repo.Repo, dec retention.Decision, onDst map[string]bool,
	all map[string]repo.Point, t *events.MirrorTarget) error {
	for _, it := range slices.Backward(dec.Remove) {
		if !onDst[it.ID] {
			continue // outside the retention and never copied
		}
		pt := all[it.ID]
		if err := dst.Delete(ctx, pt); err != nil {
			return err
		}
		t.Deleted = append(t.Deleted, events.PrunedItem{ID: pointID(t.Remote, pt), Timestamp: catalog.FormatTimestamp(pt.Time),
			Reason: reason(dec.Reasons[it.ID])})
	}
	return nil
}

// reason joins the retention's reasons into one event field (at most 256
// bytes, as the contract allows).
func reason(parts []string) string {
	s := strings.Join(parts, "; ")
	if len(s) > 256 {
		s = s[:253] + "..."
	}
	if s == "" {
		s = "outside retention"
	}
	return s
}
