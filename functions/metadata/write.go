package metadata

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// target is one remote the dump is being written to.
type target struct {
	rm  remote.Remote
	id  catalog.PoolMetaID
	up  remote.Upload
	err error // the write failed: the upload is aborted
}

// targets starts the data upload on every remote of the job. A remote that
// cannot be opened or written, or that Xen Orchestra encrypts
// (catalog.CheckWritable: xbr's plain-text dump does not belong beside
// XO's ciphertext), fails alone; the error is only an event that cannot
// be built.
func (r *run) targets(ctx context.Context, src source) ([]*target, error) {
	var ts []*target
	for _, name := range r.job.Remotes {
		rm, err := r.h.Remotes.Get(ctx, name)
		if err == nil {
			if err = catalog.CheckWritable(ctx, rm); errors.Is(err, catalog.ErrEncryptedRemote) {
				if ferr := r.fail(src, name, fmt.Errorf("remote %s: %w", name, err)); ferr != nil {
					abortAll(ctx, ts)
					return nil, ferr
				}
				continue
			}
		}
		if err == nil {
			var id catalog.PoolMetaID
			if id, err = catalog.NewPoolMetaID(name, r.sched.ID, src.uuid, r.ts); err == nil {
				t := &target{rm: rm, id: id}
				if t.up, err = rm.Create(ctx, id.Key(catalog.PoolMetaData), -1); err == nil {
					ts = append(ts, t)
					continue
				}
			}
		}
		// This remote alone fails: the others still take the dump.
		if ferr := r.fail(src, name, fmt.Errorf("remote %s: %w", name, err)); ferr != nil {
			abortAll(ctx, ts)
			return nil, ferr
		}
	}
	return ts, nil
}

// copyTee streams src to sum and to every target's upload. A target whose
// write fails is aborted and left out; the copy goes on while any is left.
func copyTee(src io.Reader, sum hash.Hash, ts []*target) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, rerr := src.Read(buf)
		if k > 0 {
			n += int64(k)
			sum.Write(buf[:k])
			if !writeAll(buf[:k], ts) {
				return n, errors.New("every remote failed")
			}
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// writeAll writes p to every live target; false when none is left.
func writeAll(p []byte, ts []*target) bool {
	live := false
	for _, t := range ts {
		if t.err != nil {
			continue
		}
		if _, err := t.up.Write(p); err != nil {
			t.err = err
			_ = t.up.Abort(context.Background())
			continue
		}
		live = true
	}
	return live
}

func abortAll(ctx context.Context, ts []*target) {
	for _, t := range ts {
		_ = t.up.Abort(ctx)
	}
}

// commit finishes the backup on one remote: data, the state, then
// metadata.json; then the retention. A failure removes what was written. A
// backup an earlier delivery of this fire committed stands as it is: the
// new dump is dropped, since rewriting the folder could only lose it.
func (r *run) commit(ctx context.Context, src source, t *target, size int64, sha string, start time.Time) error {
	if m, err := catalog.ReadPoolMetadata(ctx, t.rm, t.id); err == nil && m.XBR != nil && m.XBR.RunID == r.due.RunID {
		if t.err == nil { // an upload whose write failed is aborted already
			_ = t.up.Abort(ctx)
		}
		size, sha = m.XBR.Size, m.XBR.SHA256
	} else if err := r.write(ctx, t, src, size, sha); err != nil {
		_ = catalog.DeletePoolMeta(context.WithoutCancel(ctx), t.rm, t.id)
		return r.fail(src, t.rm.Name(), fmt.Errorf("write %s: %w", t.id, err))
	}
	deleted, perr := r.prune(ctx, t)
	if perr != nil {
		r.h.log().Warn("pool metadata retention failed", "job", r.due.Job, "remote", t.rm.Name(), "err", perr)
	}
	r.succeeded++
	r.results = append(r.results, events.VMResult{VMUUID: src.uuid, VMName: "pool " + src.name + " to " + t.rm.Name(),
		Status: events.StatusSuccess, Size: size})
	return r.add(events.DeriveID("metadata.completed", r.due.RunID, src.name, t.rm.Name()), events.MetadataCompleted{
		RunID: r.due.RunID, Job: r.due.Job, Schedule: r.due.Schedule, Pool: src.name, PoolUUID: src.uuid,
		Remote: t.rm.Name(), BackupID: t.id.String(), Bytes: size, SHA256: sha, Deleted: deleted,
		DurationMS: r.h.now().Sub(start).Milliseconds()})
}

// write commits the dump, the state and metadata.json of the backup on t.
func (r *run) write(ctx context.Context, t *target, src source, size int64, sha string) error {
	err := t.err
	if err == nil {
		err = t.up.Commit(ctx)
	}
	if err == nil {
		err = r.writeState(ctx, t)
	}
	if err == nil {
		err = catalog.CommitPoolMeta(ctx, t.rm, t.id, r.metadata(src, size, sha))
	}
	return err
}

func (r *run) metadata(src source, size int64, sha string) catalog.PoolMetadata {
	return catalog.PoolMetadata{JobID: r.job.ID, JobName: r.job.Name, Pool: src.pool, PoolMaster: src.master,
		ScheduleID: r.sched.ID, ScheduleName: r.sched.Name, Timestamp: r.ts.UnixMilli(), Version: catalog.PoolMetadataVersion,
		XBR: &catalog.PoolMetaXBR{Pool: src.name, PoolUUID: src.uuid, Size: size, SHA256: sha, State: catalog.PoolMetaState,
			RunID: r.due.RunID, WrittenBy: strings.TrimSpace("xbr " + r.h.Version)}}
}

// writeState writes xbr-state.json beside the dump.
func (r *run) writeState(ctx context.Context, t *target) error {
	up, err := t.rm.Create(ctx, t.id.Key(catalog.PoolMetaState), -1)
	if err != nil {
		return err
	}
	if r.h.State == nil {
		_, err = io.WriteString(up, "{}\n")
	} else {
		err = r.h.State(ctx, up)
	}
	if err == nil {
		err = up.Commit(ctx)
	}
	if err != nil {
		_ = up.Abort(ctx)
		return fmt.Errorf("xbr state: %w", err)
	}
	return nil
}

// prune deletes the committed backups of this pool and schedule on t's
// remote beyond the schedule's retention, oldest first.
func (r *run) prune(ctx context.Context, t *target) ([]string, error) {
	prefix := catalog.PoolMetadataDir + "/" + t.id.ScheduleID + "/" + t.id.PoolUUID + "/"
	infos, err := t.rm.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var ids []catalog.PoolMetaID
	folders := map[catalog.PoolMetaID]bool{} // every <ts> folder: committed (true) or not
	for _, in := range infos {
		dir, file, ok := strings.Cut(strings.TrimPrefix(in.Key, prefix), "/")
		if !ok || strings.Contains(file, "/") {
			continue
		}
		id, err := catalog.ParsePoolMetaID(t.rm.Name() + ":" + prefix + dir)
		if err != nil {
			continue
		}
		if file == catalog.PoolMetaMarker {
			folders[id] = true
			ids = append(ids, id)
		} else if !folders[id] {
			folders[id] = false
		}
	}
	beyond := catalog.PoolMetaBeyond(ids, r.sched.Retention)
	// A folder a crash left without metadata.json (never listed) older than
	// every backup kept goes too, as XO's retention counts every folder.
	var oldestKept time.Time
	for _, id := range ids {
		if !slices.Contains(beyond, id) && (oldestKept.IsZero() || id.Time.Before(oldestKept)) {
			oldestKept = id.Time
		}
	}
	for id, committed := range folders {
		if !committed && !oldestKept.IsZero() && id.Time.Before(oldestKept) {
			beyond = append(beyond, id)
		}
	}
	var deleted []string
	for _, id := range beyond {
		if err := catalog.DeletePoolMeta(ctx, t.rm, id); err != nil {
			return deleted, err
		}
		if folders[id] {
			deleted = append(deleted, id.String())
		}
	}
	return deleted, nil
}
