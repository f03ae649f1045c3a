package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"xbr/shared/remote"
)

// DefaultGrace is how old an unreferenced chunk must be before GC removes it.
const DefaultGrace = time.Hour

// GCOptions tunes a garbage collection; the zero value means the defaults.
type GCOptions struct {
	// Grace: an unreferenced chunk younger than this (by the remote's clock, against the
	// sweep marker's time) is kept. 0 means DefaultGrace; negative means none.
	Grace time.Duration
}

// GCReport says what a garbage collection did.
type GCReport struct {
	Manifests  int // manifests read
	Referenced int // distinct chunk ids they use
	Chunks     int // chunks found while sweeping
	Swept      int // chunks removed
	SweptBytes int64
	Young      int // unreferenced chunks kept for the grace period
	Temps      int // incomplete uploads removed
	// StaleLeases are the leases of crashed backups and the markers of crashed GCs removed.
	StaleLeases int
	// Deferred is true when backups were running: nothing was swept, LiveBackups says how
	// many; the next GC sweeps.
	Deferred    bool
	LiveBackups int
}

// GC removes the chunks no restore point uses (see doc.go, "GC and backups"). It is
// idempotent: a GC interrupted at any point leaves only chunks that the next GC removes.
func (rp *Repo) GC(ctx context.Context, o GCOptions) (GCReport, error) {
	grace := o.Grace
	if grace == 0 {
		grace = DefaultGrace
	}
	grace = max(grace, 0)
	// The due markers are read first and removed only by a GC that swept: each names a
	// deletion made before this GC's marks, whose chunks the sweep then removes. A point
	// deleted from here on leaves a marker this GC does not remove, for the next GC; so does
	// a GC that is killed, fails or is deferred.
	due, err := rp.r.List(ctx, gcDueListed)
	if err != nil {
		return GCReport{}, fmt.Errorf("gc: list %s: %w", gcDuePrefix, err)
	}
	rep, err := rp.collect(ctx, grace)
	if err != nil || rep.Deferred {
		if len(due) == 0 { // a GC asked for while nothing was due still owes its sweep
			if merr := rp.markGCDue(context.WithoutCancel(ctx)); merr != nil {
				err = errors.Join(err, fmt.Errorf("gc: mark the repository due: %w", merr))
			}
		}
		return rep, err
	}
	for _, m := range due {
		if err := rp.r.Delete(ctx, m.Key); err != nil {
			rp.opts.log.Warn("GC swept, but a due marker could not be removed; the next GC runs for nothing",
				"remote", rp.r.Name(), "marker", m.Key, "err", err)
		}
	}
	return rep, nil
}

// markGCDue records that restore points were deleted: a marker of its own, never rewritten,
// so that a GC removes only the markers it saw before its marks.
func (rp *Repo) markGCDue(ctx context.Context) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	key := gcDuePrefix + rp.opts.now().UTC().Format(timeLayout) + "_" + hex.EncodeToString(rnd[:]) + ".json"
	body, _ := json.Marshal(map[string]string{"since": rp.opts.now().UTC().Format(time.RFC3339)})
	return remote.Put(ctx, rp.r, key, body)
}

// GCDue reports whether restore points were deleted since the last GC that swept (or a GC
// was deferred or failed since), so that a GC has something to collect.
func (rp *Repo) GCDue(ctx context.Context) (bool, error) {
	due, err := rp.r.List(ctx, gcDueListed)
	if err != nil {
		return false, fmt.Errorf("repository on remote %s: list %s: %w", rp.r.Name(), gcDuePrefix, err)
	}
	return len(due) > 0, nil
}

// collect is GC's mark and sweep.
func (rp *Repo) collect(ctx context.Context, grace time.Duration) (GCReport, error) {
	var rep GCReport
	var err error
	spool := newRefSpool(rp.opts.tempDir)
	defer spool.close()
	seen := map[string]markedManifest{}
	if rep.Manifests, err = rp.mark(ctx, spool, seen); err != nil {
		return rep, fmt.Errorf("gc mark: %w", err)
	}
	body, _ := json.Marshal(map[string]string{"started": rp.opts.now().UTC().Format(time.RFC3339)})
	marker, live, err := rp.beginSweep(ctx, body)
	if err != nil || marker == nil {
		rep.Deferred, rep.LiveBackups = err == nil, len(live)
		return rep, err
	}
	n, err := rp.mark(ctx, spool, seen) // manifests committed while the first mark ran
	rep.Manifests += n
	if err == nil { // no backup runs: every incomplete upload is a crashed one's
		var terr error
		if rep.Temps, terr = rp.sweepTemps(ctx, marker, grace); terr != nil {
			// Incomplete uploads only take space: one whose listing fails (versitygw refuses
			// to page past 1,000 pending multipart uploads) must not stop every sweep.
			rp.opts.log.Warn("gc: incomplete uploads not removed; the chunks are swept all the same",
				"remote", rp.r.Name(), "err", terr)
			err = ctx.Err()
		}
	}
	if err == nil {
		rep.StaleLeases, err = rp.sweepStaleLeases(ctx, marker)
	}
	if err == nil {
		err = rp.sweep(ctx, spool, marker, marker.mod.Add(-grace), &rep)
	}
	return rep, errors.Join(err, marker.release(ctx))
}

// sweepTemps removes the incomplete uploads under the repository left by crashed writers:
// those last active more than grace (at least twice the leases' validity) before marker was
// written. Both times are the remote's (a temp's ModTime or start, the marker's ModTime), so
// a GC host whose clock is ahead does not take an upload in progress for a crashed one's.
func (rp *Repo) sweepTemps(ctx context.Context, marker *lease, grace time.Duration) (int, error) {
	s, ok := rp.r.(remote.Sweeper)
	if !ok {
		return 0, nil
	}
	before := marker.mod.Add(-max(grace, 2*rp.opts.staleAfter))
	removed, err := remote.Sweep(ctx, s, Root+"/", before)
	if err != nil {
		return len(removed), fmt.Errorf("gc: incomplete uploads: %w", err)
	}
	return len(removed), nil
}

// sweepStaleLeases removes the leases and sweep markers last written more than twice their
// validity before marker was (by the remote's clock): those of crashed backups and GCs,
// which everyone ignores already. A holder frozen that long has stopped relying on its
// lease; its next refresh writes it again.
func (rp *Repo) sweepStaleLeases(ctx context.Context, marker *lease) (int, error) {
	cutoff := marker.mod.Add(-2 * rp.opts.staleAfter)
	removed := 0
	for _, prefix := range []string{sessionsPrefix, sweepPrefix} {
		infos, err := rp.r.List(ctx, prefix)
		if err != nil {
			return removed, fmt.Errorf("gc: list %s: %w", prefix, err)
		}
		for _, in := range infos {
			if in.Key == marker.key || !in.ModTime.Before(cutoff) {
				continue
			}
			if err := rp.r.Delete(ctx, in.Key); err != nil {
				return removed, fmt.Errorf("gc: remove the stale lease %s: %w", in.Key, err)
			}
			removed++
		}
	}
	return removed, nil
}

// sweep removes, shard by shard, the chunks the spool does not name and older than cutoff,
// while the marker stays fresh. It counts the distinct ids named in rep.Referenced.
func (rp *Repo) sweep(ctx context.Context, spool *refSpool, marker *lease, cutoff time.Time, rep *GCReport) error {
	var swept, bytes atomic.Int64
	var marked []ChunkID
	for b := 0; b < 256; b++ {
		var err error
		if marked, err = spool.shard(byte(b), marked); err != nil {
			return fmt.Errorf("gc sweep: %w", err)
		}
		rep.Referenced += len(marked)
		infos, err := rp.r.List(ctx, chunkShard(b))
		if err != nil {
			return fmt.Errorf("gc sweep: list %s: %w", chunkShard(b), err)
		}
		var doomed []remote.Info
		for _, in := range infos {
			id, ok := parseChunkKey(in.Key)
			if !ok {
				continue
			}
			rep.Chunks++
			switch {
			case hasID(marked, id):
			case in.ModTime.Before(cutoff):
				doomed = append(doomed, in)
			default:
				rep.Young++
			}
		}
		if err := rp.deleteAll(ctx, doomed, marker, &swept, &bytes); err != nil {
			rep.Swept, rep.SweptBytes = int(swept.Load()), bytes.Load()
			return err
		}
	}
	rep.Swept, rep.SweptBytes = int(swept.Load()), bytes.Load()
	return nil
}

// deleteAll removes infos, up to the repository's concurrency at once, checking just before
// each removal starts that the marker is still fresh.
func (rp *Repo) deleteAll(ctx context.Context, infos []remote.Info, marker *lease, swept, bytes *atomic.Int64) error {
	sem := make(chan struct{}, rp.opts.concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	for _, in := range infos {
		// The slot first, then the check: a removal queued behind a slow one must not run on
		// a check made before the wait, during which the marker may have gone stale and a
		// backup started and re-used this chunk.
		sem <- struct{}{}
		if err := errors.Join(ctx.Err(), marker.fresh()); err != nil {
			<-sem
			fail(fmt.Errorf("gc sweep: %w", err))
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := rp.r.Delete(ctx, in.Key); err != nil {
				fail(fmt.Errorf("gc sweep: %w", err))
				return
			}
			swept.Add(1)
			bytes.Add(in.Size)
		}()
	}
	wg.Wait()
	return first
}
