package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// uploadSet writes one stream to several remotes at once (read once, write
// N). A write returns when every remote has taken the bytes; the first
// failing remote fails the whole set.
type uploadSet struct {
	names   []string
	uploads []remote.Upload
}

func createAll(ctx context.Context, rems []remote.Remote, key string, sizeHint int64) (*uploadSet, error) {
	s := &uploadSet{}
	for _, r := range rems {
		u, err := r.Create(ctx, key, max(sizeHint, -1))
		if err != nil {
			s.abort(ctx)
			return nil, fmt.Errorf("remote %s: create %s: %w", r.Name(), key, err)
		}
		s.names, s.uploads = append(s.names, r.Name()), append(s.uploads, u)
	}
	return s, nil
}

// Write hands p to every upload in parallel.
func (s *uploadSet) Write(p []byte) (int, error) {
	if len(s.uploads) == 1 {
		return s.one(0, p)
	}
	errs := make([]error, len(s.uploads))
	var wg sync.WaitGroup
	for i := range s.uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.one(i, p)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *uploadSet) one(i int, p []byte) (int, error) {
	n, err := s.uploads[i].Write(p)
	if err == nil && n < len(p) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(p))
	}
	if err != nil && !strings.Contains(err.Error(), "remote "+s.names[i]) {
		err = fmt.Errorf("remote %s: %w", s.names[i], err)
	}
	return n, err
}

// commit commits every upload; on the first failure the rest are aborted
// and the caller removes what was committed.
func (s *uploadSet) commit(ctx context.Context) error {
	for i, u := range s.uploads {
		if err := u.Commit(ctx); err != nil {
			return fmt.Errorf("remote %s: commit: %w", s.names[i], err)
		}
	}
	return nil
}

// abort discards every upload not committed (a no-op after Commit).
func (s *uploadSet) abort(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, u := range s.uploads {
		_ = u.Abort(cctx)
	}
}

// metadata is the backup's .json: Xen Orchestra's fields and xbr's object.
func (w *Worker) metadata(j *job, ts time.Time, st streamed, elapsed time.Duration, vm, snap json.RawMessage) catalog.Metadata {
	return catalog.Metadata{JobID: j.jobID(), Mode: catalog.ModeFull, ScheduleID: j.scheduleID(),
		Timestamp: ts.UnixMilli(), Version: catalog.MetadataVersion, VM: vm, VMSnapshot: snap,
		XVA: "./" + catalog.FormatTimestamp(ts) + catalog.DataSuffix, Size: st.stored,
		Xbr: &catalog.Xbr{Version: w.d.Version, SHA256: st.sha256, Codec: j.req.Codec, RunID: j.req.RunID,
			Pool: j.req.Pool, Job: j.req.Job, Schedule: j.req.Schedule, RawSize: st.read,
			DurationMS: elapsed.Milliseconds(), BytesPerSecond: perSecond(st.stored, elapsed)}}
}

// commitAll finishes the backup stamped ts on every remote once its data is
// committed: the .xva.checksum and then the .json (catalog.Commit).
func commitAll(ctx context.Context, rems []remote.Remote, ts time.Time, vmUUID, sha256hex string, m catalog.Metadata) error {
	for _, r := range rems {
		id, err := catalog.NewID(r.Name(), vmUUID, ts)
		if err != nil {
			return err
		}
		if err := catalog.Commit(ctx, r, id, m, sha256hex); err != nil {
			return fmt.Errorf("remote %s: %w", r.Name(), err)
		}
	}
	return nil
}

// unwind deletes the backup stamped ts from every remote, .json first so
// that it is never listed half-deleted.
func (w *Worker) unwind(ctx context.Context, rems []remote.Remote, ts time.Time, j *job) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, r := range rems {
		if err := deleteBackup(cctx, r, j.req.VMUUID, ts); err != nil {
			w.d.Log.Error("partial backup not removed; the next attempt removes it", "remote", r.Name(),
				"vm_uuid", j.req.VMUUID, "error", err)
		}
	}
	w.refreshCaches(cctx, rems, j.req.VMUUID)
}

// refreshCaches makes Xen Orchestra's cache.json.gz of the VM folder tell
// the truth on every remote after a change; a failure is logged (the cache
// is then removed, or XO's next cleanVm rebuilds it).
func (w *Worker) refreshCaches(ctx context.Context, rems []remote.Remote, vmUUID string) {
	for _, r := range rems {
		if err := catalog.RefreshCache(ctx, r, vmUUID); err != nil {
			w.d.Log.Error("XO's backup cache not refreshed", "remote", r.Name(), "vm_uuid", vmUUID, "error", err)
		}
	}
}

func deleteBackup(ctx context.Context, r remote.Remote, vmUUID string, ts time.Time) error {
	id, err := catalog.NewID(r.Name(), vmUUID, ts)
	if err != nil {
		return err
	}
	return catalog.Delete(ctx, r, id)
}
