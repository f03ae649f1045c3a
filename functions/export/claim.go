package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// maxClaimTries bounds the search for a free second: an hour of seconds
// each taken or claimed is not a race but a fault.
const maxClaimTries = 3600

// claim finds the first second from ts on that no backup of the VM uses on
// any remote and claims it on every remote (catalog.Claim). Looking at the
// committed files is not enough: on S3 there is no VM-folder lock, so two
// jobs of the VM starting in the same second would both find the second
// free and write the same keys. Of writers racing for a second exactly one
// holds its claim; the others move on to the next second. The files are
// looked at again once the claim is held, since a writer that held it
// before releases it only after committing (or removing) its backup. A
// claim left by a crash costs the next writer one second; the crashed
// run's next attempt, or the sweep once the claim is old, removes it.
func (w *Worker) claim(ctx context.Context, rems []remote.Remote, j *job, from time.Time) (time.Time, error) {
	ts := from
	for range maxClaimTries {
		if !taken(ctx, rems, j.req.VMUUID, ts) {
			held, err := w.claimAll(ctx, rems, j, ts)
			if err != nil {
				return time.Time{}, err
			}
			if held && !taken(ctx, rems, j.req.VMUUID, ts) {
				return ts, nil
			}
			if held {
				w.release(ctx, rems, j, ts)
			}
		}
		ts = ts.Add(time.Second)
	}
	return time.Time{}, fmt.Errorf("vm %s: no free backup time in the %d seconds from %s", j.req.VMUUID,
		maxClaimTries, catalog.FormatTimestamp(from))
}

// claimAll claims ts on every remote, in the order of their names so that
// two writers of the same remotes never hold one claim each; held is false,
// and nothing is held, when another writer has one of them.
func (w *Worker) claimAll(ctx context.Context, rems []remote.Remote, j *job, ts time.Time) (held bool, err error) {
	rems = slices.SortedFunc(slices.Values(rems), func(a, b remote.Remote) int { return strings.Compare(a.Name(), b.Name()) })
	for i, r := range rems {
		id, err := catalog.NewID(r.Name(), j.req.VMUUID, ts)
		if err == nil {
			err = catalog.Claim(ctx, r, id, j.req.RunID)
		}
		if err != nil {
			w.release(ctx, rems[:i], j, ts)
		}
		switch {
		case errors.Is(err, catalog.ErrClaimed):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("remote %s: %w", r.Name(), err)
		}
	}
	return true, nil
}

// release gives back the claims of ts; a claim that stays is only logged
// (it costs the next writer a second, and the sweep removes it).
func (w *Worker) release(ctx context.Context, rems []remote.Remote, j *job, ts time.Time) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, r := range rems {
		id, err := catalog.NewID(r.Name(), j.req.VMUUID, ts)
		if err == nil {
			err = catalog.ReleaseClaim(cctx, r, id)
		}
		if err != nil {
			w.d.Log.Warn("backup time claim not released; the sweep removes it", "remote", r.Name(),
				"vm_uuid", j.req.VMUUID, "error", err)
		}
	}
}

// taken reports whether a backup (or its data) already uses ts on a remote.
func taken(ctx context.Context, rems []remote.Remote, vmUUID string, ts time.Time) bool {
	for _, r := range rems {
		id, err := catalog.NewID(r.Name(), vmUUID, ts)
		if err != nil {
			return false
		}
		for _, key := range []string{id.MetaKey(), id.DataKey()} {
			if _, err := r.Stat(ctx, key); err == nil {
				return true
			}
		}
	}
	return false
}
