package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/remote"
	"xbr/shared/xapi"
)

// cleanupTimeout bounds the cleanup that runs after an attempt, on a
// context of its own so that a cancelled or timed-out attempt still cleans.
const cleanupTimeout = 5 * time.Minute

// attempt is one try at backing up the VM: it returns the completed event,
// or an error after removing everything it created (but what it committed
// in a folder whose lock it lost: vmLocks.kept).
func (w *Worker) attempt(ctx context.Context, j *job, n int) (events.ExportCompleted, error) {
	client, err := w.d.Pools.Client(ctx, j.req.Pool)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	rems, err := w.remotes(ctx, j.req.Remotes)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	if err := writable(ctx, rems); err != nil {
		return events.ExportCompleted{}, err
	}
	locks, err := w.lockWaiting(ctx, j, rems)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	defer locks.unlock()
	lctx, stop := locks.watch(ctx)
	defer stop()
	done, err := w.locked(lctx, client, j, n, rems, locks)
	if lost := lockLost(lctx); err != nil && lost != nil {
		err = lost // rather than the "context canceled" it caused
	}
	return done, err
}

// locked is the attempt once it holds the VM folder's locks.
func (w *Worker) locked(ctx context.Context, client *xapi.Client, j *job, n int, rems []remote.Remote,
	locks *vmLocks) (events.ExportCompleted, error) {
	if done, ok, err := w.committed(ctx, j, rems); err != nil || ok {
		return done, err
	}
	if err := w.sweep(ctx, j, rems); err != nil {
		return events.ExportCompleted{}, fmt.Errorf("remove leftovers of earlier attempts: %w", err)
	}
	vm, err := client.VMByUUID(ctx, j.req.VMUUID)
	if err != nil {
		if xapi.IsCode(err, "UUID_INVALID") {
			return events.ExportCompleted{}, bus.Permanent(fmt.Errorf("vm %s is not in pool %s: %w", j.req.VMUUID, j.req.Pool, err))
		}
		return events.ExportCompleted{}, fmt.Errorf("find vm %s: %w", j.req.VMUUID, err)
	}
	if err := w.sweepSnapshots(ctx, client, vm, j); err != nil {
		return events.ExportCompleted{}, fmt.Errorf("remove leftovers of earlier attempts: %w", err)
	}
	ts, release, err := w.stamp(ctx, j, rems)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	defer release()
	w.started(ctx, j, n)
	snap, err := w.snapshot(ctx, client, vm, j, ts)
	if snap != "" {
		defer w.destroy(ctx, client, snap, j)
	}
	if err != nil {
		return events.ExportCompleted{}, err
	}
	return w.transfer(ctx, client, vm, snap, j, ts, locks, rems)
}

func (w *Worker) remotes(ctx context.Context, names []string) ([]remote.Remote, error) {
	out := make([]remote.Remote, 0, len(names))
	for _, n := range names {
		r, err := w.d.Remotes.Get(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("open remote %s: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// writable checks, before anything is written or snapshotted, that xbr may
// write full backups to every remote (catalog.CheckWritable): a remote Xen
// Orchestra encrypts is refused for good.
func writable(ctx context.Context, rems []remote.Remote) error {
	for _, r := range rems {
		err := catalog.CheckWritable(ctx, r)
		if errors.Is(err, catalog.ErrEncryptedRemote) {
			return bus.Permanent(fmt.Errorf("remote %s: %w", r.Name(), err))
		}
		if err != nil {
			return fmt.Errorf("remote %s: %w", r.Name(), err)
		}
	}
	return nil
}

// stamp picks this attempt's backup time — after every earlier attempt's,
// not taken on any remote and claimed on every one (claim), so that no other
// writer uses the same keys — and records it in the run before anything is
// written. release gives the claims back; the caller calls it once the
// backup is committed or removed.
func (w *Worker) stamp(ctx context.Context, j *job, rems []remote.Remote) (ts time.Time, release func(), err error) {
	ts = w.d.Now().UTC().Truncate(time.Second)
	if j.run != nil {
		v, _ := j.run.VM(j.req.VMUUID)
		for _, a := range v.Attempts {
			if t, err := catalog.ParseTimestamp(a); err == nil && !t.Before(ts) {
				ts = t.Add(time.Second)
			}
		}
	}
	if ts, err = w.claim(ctx, rems, j, ts); err != nil {
		return time.Time{}, nil, err
	}
	claimed := ts
	release = func() { w.release(ctx, rems, j, claimed) }
	if j.run == nil {
		return ts, release, nil
	}
	r, err := w.d.Runs.RecordAttempt(ctx, j.req.RunID, j.req.VMUUID, catalog.FormatTimestamp(ts))
	if err != nil {
		release()
		return time.Time{}, nil, fmt.Errorf("record attempt: %w", err)
	}
	j.run = &r
	return ts, release, nil
}

// started publishes export.started on the side channel; a failure is only
// logged (the event is informative).
func (w *Worker) started(ctx context.Context, j *job, n int) {
	j.n = n
	p := events.ExportStarted{RunID: j.req.RunID, Job: j.req.Job, Schedule: j.req.Schedule, VMUUID: j.req.VMUUID,
		VMName: j.req.VMName, Pool: j.req.Pool, Remotes: j.req.Remotes, Codec: j.req.Codec, Attempt: int64(n)}
	id := events.DeriveID("export.started", j.req.RunID, j.req.VMUUID, fmt.Sprint(j.delivery), fmt.Sprint(n))
	w.publish(ctx, id, p)
}

func (w *Worker) publish(ctx context.Context, id string, p events.Payload) {
	if w.d.Publisher == nil {
		return
	}
	m, err := w.d.message(id, p)
	if err == nil {
		_, err = w.d.Publisher.Publish(ctx, m.Subject, m.Event)
	}
	if err != nil && ctx.Err() == nil {
		w.d.Log.Warn("publish failed", "event_type", p.EventType(), "error", err)
	}
}

// transfer streams the snapshot's XVA to every remote and commits it, each
// commit only after a check that the VM folders' locks are still xbr's.
func (w *Worker) transfer(ctx context.Context, client *xapi.Client, vm, snap xapi.VMRef, j *job, ts time.Time,
	locks *vmLocks, rems []remote.Remote) (events.ExportCompleted, error) {
	start := w.d.Now()
	vmRec, err := rawRecord(ctx, client, vm)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	snapRec, err := rawRecord(ctx, client, snap)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	hint, total := diskSizes(ctx, client, snap)
	id0, err := catalog.NewID(rems[0].Name(), j.req.VMUUID, ts)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	set, err := createAll(ctx, rems, id0.DataKey(), hint)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	defer set.abort(ctx)
	st, err := w.stream(ctx, client, snap, j, set, total)
	if err != nil {
		return events.ExportCompleted{}, err
	}
	if err := locks.check(ctx); err != nil {
		return events.ExportCompleted{}, err // the uploads are aborted: nothing was in the folders
	}
	if err := set.commit(ctx); err != nil {
		w.unwind(ctx, locks.kept(rems), ts, j)
		return events.ExportCompleted{}, err
	}
	elapsed := w.d.Now().Sub(start)
	done := w.completed(j, ts, st, elapsed, rems)
	meta := w.metadata(j, ts, st, elapsed, vmRec, snapRec)
	err = locks.check(ctx)
	if err == nil {
		err = commitAll(ctx, rems, ts, j.req.VMUUID, st.sha256, meta)
	}
	if err != nil {
		w.unwind(ctx, locks.kept(rems), ts, j)
		return events.ExportCompleted{}, err
	}
	// XO's cache only in the folders still xbr's: one XO took over is XO's now.
	w.refreshCaches(ctx, locks.holding(ctx, rems), j.req.VMUUID)
	return done, nil
}

// streamed is what went through the pipe.
type streamed struct {
	read, stored int64
	sha256       string
}

// stream copies /export of snap, compressed as the job says, into set.
func (w *Worker) stream(ctx context.Context, client *xapi.Client, snap xapi.VMRef, j *job, set *uploadSet,
	total int64) (streamed, error) {
	opts := xapi.ExportOptions{}
	if j.req.XAPICompression {
		opts.Compression = j.req.Codec
	}
	tr, err := client.Export(ctx, snap, opts)
	if err != nil {
		return streamed{}, fmt.Errorf("export snapshot: %w", err)
	}
	defer tr.Close()
	h := sha256.New()                      // the metadata's sha256, and XO's .xva.checksum ("$5$$")
	sink := newAsyncSink(set, w.blocks, h) // read, hash and write overlap
	prog := w.progress(ctx, j, total)
	defer prog.stop()
	limited, release := w.limiters.reader(ctx, j.req.RunID, int64(j.cfg.RateLimit), tr)
	defer release()
	src := prog.reader(limited)
	copyErr := copyCompressed(sink, src, j)
	stored, sinkErr := sink.Close()
	if copyErr != nil {
		return streamed{}, copyErr
	}
	if sinkErr != nil {
		return streamed{}, fmt.Errorf("stream: %w", sinkErr)
	}
	return streamed{read: prog.bytes(), stored: stored, sha256: hex.EncodeToString(h.Sum(nil))}, nil
}

func copyCompressed(sink io.Writer, src io.Reader, j *job) error {
	codec := compress.None
	if !j.req.XAPICompression {
		codec = compress.Codec(j.req.Codec)
	}
	cw, err := compress.NewWriter(sink, codec, compress.WriterOptions{})
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(cw, src, buf); err != nil {
		_ = cw.Close()
		return fmt.Errorf("stream: %w", err)
	}
	if err := cw.Close(); err != nil {
		return fmt.Errorf("stream: flush %s: %w", codec, err)
	}
	return nil
}

// completed is the export.completed of a committed backup.
func (w *Worker) completed(j *job, ts time.Time, st streamed, elapsed time.Duration, rems []remote.Remote) events.ExportCompleted {
	p := events.ExportCompleted{RunID: j.req.RunID, Job: j.req.Job, Schedule: j.req.Schedule, VMUUID: j.req.VMUUID,
		VMName: j.req.VMName, Pool: j.req.Pool, Timestamp: catalog.FormatTimestamp(ts), Codec: j.req.Codec,
		Size: st.stored, BytesRead: st.read, SHA256: st.sha256, DurationMS: elapsed.Milliseconds(),
		BytesPerSecond: perSecond(st.stored, elapsed)}
	for _, r := range rems {
		id, _ := catalog.NewID(r.Name(), j.req.VMUUID, ts)
		p.Backups = append(p.Backups, events.RemoteBackup{Remote: r.Name(), BackupID: id.String()})
	}
	return p
}

func perSecond(n int64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}
