package replicate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// Spec is the replication of one VM to a standby pool.
type Spec struct {
	RunID    string // recorded on the copy (xbr:backup:run); "" outside a run
	Job      string
	Schedule string
	// JobID and ScheduleID go in xo:backup:job and xo:backup:schedule (the
	// names when empty); a copy keyed by either the id or the name is the
	// job's, so copies made before xbr wrote ids still count.
	JobID      string
	ScheduleID string
	VMUUID     string // the source VM
	// TargetSR is the SR of the standby pool, by uuid or name label.
	TargetSR string
	// Compression asks XAPI to compress the stream: "", gzip or zstd. The
	// importing pool detects it.
	Compression string
	// CopyRetention is how many standby copies of the VM this job and
	// schedule keep on the SR (values below 1 mean 1).
	CopyRetention int
}

// Options are the optional knobs of Replicate.
type Options struct {
	Now func() time.Time // [time.Now]
	Log *slog.Logger     // [discard]
	// Progress is called with the bytes streamed so far, from the
	// goroutine that streams; it must be quick.
	Progress func(bytes int64)
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(int64) {}
	}
	return o
}

// Result is a completed replication.
type Result struct {
	Copy     Copy
	Bytes    int64
	Duration time.Duration
	// Reused: the copy was made earlier by the same run (a redelivered
	// request); nothing was transferred this time.
	Reused bool
	// Pruned are the older copies destroyed by the retention.
	Pruned []Copy
	// Kept are older copies the retention chose to destroy but kept, since
	// they were no longer halted standby copies when it came to them (a
	// failover unblocked or started them meanwhile).
	Kept []Copy
	// PruneErr is why pruning failed; the new copy is complete anyway and
	// the next run prunes again.
	PruneErr error
}

// Replicate copies the VM spec.VMUUID of the pool of src to the SR
// spec.TargetSR of the pool of dst, the way Xen Orchestra's full
// replication does; see the package documentation for each step. The
// snapshot it takes is destroyed whatever happens; a failed transfer leaves
// no copy, and older copies are pruned only after the new one completed.
func Replicate(ctx context.Context, src, dst *xapi.Client, spec Spec, o Options) (Result, error) {
	o = o.withDefaults()
	srRef, srUUID, err := ResolveSR(ctx, dst, spec.TargetSR)
	if err != nil {
		return Result{}, err
	}
	copies, err := ListCopies(ctx, dst)
	if err != nil {
		return Result{}, err
	}
	if cp, ok := madeByRun(copies, spec); ok {
		res := Result{Copy: cp, Bytes: cp.Bytes, Duration: time.Duration(cp.DurationMS) * time.Millisecond, Reused: true}
		res.Pruned, res.Kept, res.PruneErr = prune(ctx, dst, spec, srUUID, cp.UUID)
		return res, nil
	}
	if err := sweepInterrupted(ctx, dst, copies, spec); err != nil {
		o.Log.Warn("could not destroy an interrupted copy", "vm_uuid", spec.VMUUID, "err", err)
	}
	res, err := replicateOnce(ctx, src, dst, spec, o, srRef, srUUID)
	if err != nil {
		return Result{}, err
	}
	res.Pruned, res.Kept, res.PruneErr = prune(ctx, dst, spec, srUUID, res.Copy.UUID)
	return res, nil
}

func replicateOnce(ctx context.Context, src, dst *xapi.Client, spec Spec, o Options, srRef xapi.SRRef, srUUID string) (Result, error) {
	vm, err := src.VMByUUID(ctx, spec.VMUUID)
	if err != nil {
		return Result{}, fmt.Errorf("replicate vm %s: %w", spec.VMUUID, err)
	}
	rec, err := src.VMRecord(ctx, vm)
	if err != nil {
		return Result{}, fmt.Errorf("replicate vm %s: %w", spec.VMUUID, err)
	}
	if err := sweepSnapshots(ctx, src, rec, spec); err != nil {
		o.Log.Warn("could not destroy a leftover snapshot", "vm_uuid", spec.VMUUID, "err", err)
	}
	start := o.Now().UTC().Truncate(time.Second)
	snap, err := takeSnapshot(ctx, src, vm, rec.NameLabel, spec, start, o.Log)
	if err != nil {
		return Result{}, err
	}
	defer destroyDetached(ctx, src, snap, o.Log, "snapshot")
	ref, n, err := transfer(ctx, src, dst, snap, srRef, spec.Compression, o.Progress)
	if err != nil {
		return Result{}, fmt.Errorf("replicate vm %s: %w", spec.VMUUID, err)
	}
	dur := o.Now().Sub(start)
	cp, err := finish(ctx, dst, ref, copyFacts{name: CopyName(rec.NameLabel, spec.Job, start), spec: spec,
		datetime: start, sr: srUUID, bytes: n, dur: dur, completed: o.Now().UTC(), ha: rec.HARestartPriority})
	if err != nil {
		destroyDetached(ctx, dst, ref, o.Log, "incomplete copy")
		return Result{}, fmt.Errorf("replicate vm %s: %w", spec.VMUUID, err)
	}
	return Result{Copy: cp, Bytes: n, Duration: dur}, nil
}

// madeByRun finds the completed copy a previous delivery of this run made.
func madeByRun(copies []Copy, spec Spec) (Copy, bool) {
	if spec.RunID == "" {
		return Copy{}, false
	}
	for _, c := range copies {
		if c.Complete() && c.Run == spec.RunID && c.VMUUID == spec.VMUUID && spec.ofJob(c.JobID) {
			return c, true
		}
	}
	return Copy{}, false
}

// sweepInterrupted destroys the job's copies of the VM whose transfer never
// completed (no xo:backup:sr), except one being imported right now.
func sweepInterrupted(ctx context.Context, dst *xapi.Client, copies []Copy, spec Spec) error {
	var errs []error
	for _, c := range copies {
		if c.Complete() || !spec.ofJob(c.JobID) || c.VMUUID != spec.VMUUID || c.UUID == spec.VMUUID ||
			c.importing || c.PowerState != string(xapi.Halted) {
			continue
		}
		if err := dst.DestroyVM(ctx, c.Ref); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sweepSnapshots destroys snapshots of the VM left by an earlier attempt of
// the job (a crash between snapshot and cleanup).
func sweepSnapshots(ctx context.Context, src *xapi.Client, vm xapi.VM, spec Spec) error {
	var errs []error
	for _, ref := range vm.Snapshots {
		rec, err := src.VMRecord(ctx, ref)
		if err != nil {
			continue // gone meanwhile
		}
		if spec.ofJob(rec.OtherConfig[xotag.KeyJob]) && rec.OtherConfig[xotag.KeyVM] == spec.VMUUID {
			errs = append(errs, src.DestroyVM(ctx, ref))
		}
	}
	return errors.Join(errs...)
}

// takeSnapshot snapshots the VM under XO's temporary name, stamps it with
// the job's keys (the copy inherits them through the XVA, so even a copy
// whose process died right after the import is found and swept), blocks
// start on it (inherited too), names it and clears is_a_template so the
// export imports as a VM.
func takeSnapshot(ctx context.Context, src *xapi.Client, vm xapi.VMRef, vmName string, spec Spec, at time.Time, log *slog.Logger) (xapi.VMRef, error) {
	snap, err := src.Snapshot(ctx, vm, xotag.TempSnapshotName, nil)
	if err != nil {
		return "", fmt.Errorf("replicate vm %s: %w", spec.VMUUID, err)
	}
	steps := []func() error{
		func() error { return src.RemoveFromOtherConfig(ctx, snap, xotag.KeySR) },
		func() error { return setKeys(ctx, src, snap, baseKeys(spec, at)) },
		func() error { return blockStart(ctx, src, snap) },
		func() error { return src.SetNameLabel(ctx, snap, xotag.NameLabel(spec.Job, vmName)) },
		func() error { return src.SetIsATemplate(ctx, snap, false) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			destroyDetached(ctx, src, snap, log, "snapshot")
			return "", fmt.Errorf("replicate vm %s: prepare snapshot: %w", spec.VMUUID, err)
		}
	}
	return snap, nil
}

// baseKeys are the keys a copy carries from its birth: XO's, with the
// ids, and the names beside them.
func baseKeys(spec Spec, at time.Time) []xotag.KV {
	kv := xotag.Keys(cmp.Or(spec.JobID, spec.Job), cmp.Or(spec.ScheduleID, spec.Schedule), spec.VMUUID, spec.RunID, at)
	return append(kv, xotag.KV{Key: xotag.KeyJobName, Value: spec.Job}, xotag.KV{Key: xotag.KeyScheduleName, Value: spec.Schedule})
}

// ofJob reports whether an xo:backup:job value names the job of spec.
func (s Spec) ofJob(v string) bool { return v != "" && (v == s.Job || v == s.JobID) }

// ofSchedule is ofJob for xo:backup:schedule.
func (s Spec) ofSchedule(v string) bool { return v != "" && (v == s.Schedule || v == s.ScheduleID) }

func setKeys(ctx context.Context, c *xapi.Client, vm xapi.VMRef, kv []xotag.KV) error {
	for _, p := range kv {
		if err := c.AddToOtherConfig(ctx, vm, p.Key, p.Value); err != nil {
			return err
		}
	}
	return nil
}

func blockStart(ctx context.Context, c *xapi.Client, vm xapi.VMRef) error {
	for _, op := range blockedOps {
		if err := c.AddToBlockedOperations(ctx, vm, op, BlockReason); err != nil {
			return err
		}
	}
	return nil
}

// transfer streams /export of snap into /import on dst: no file, no
// buffering beyond the copy buffer. A failed export breaks the import,
// which then leaves no VM.
func transfer(ctx context.Context, src, dst *xapi.Client, snap xapi.VMRef, sr xapi.SRRef, codec string, progress func(int64)) (xapi.VMRef, int64, error) {
	t, err := src.Export(ctx, snap, xapi.ExportOptions{Compression: codec})
	if err != nil {
		return "", 0, err
	}
	defer t.Close()
	cr := &countingReader{r: t, progress: progress}
	ref, err := dst.Import(ctx, cr, -1, xapi.ImportOptions{SR: sr})
	if err != nil {
		return "", cr.n.Load(), err
	}
	return ref, cr.n.Load(), nil
}

type countingReader struct {
	r        io.Reader
	n        atomic.Int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.progress(c.n.Add(int64(n)))
	}
	return n, err
}

// copyFacts is what finish writes on a new copy.
type copyFacts struct {
	name      string
	spec      Spec
	datetime  time.Time
	sr        string
	bytes     int64
	dur       time.Duration
	completed time.Time
	ha        string // the source VM's ha_restart_priority, which the copy inherits
}

// finish names, tags and start-blocks the imported copy, takes it out of
// HA (tagged TagHADisabled when its source was in HA, as Xen Orchestra
// does), records its keys and, last, xo:backup:sr: from then on it is a
// complete copy.
func finish(ctx context.Context, dst *xapi.Client, ref xapi.VMRef, f copyFacts) (Copy, error) {
	kv := append(baseKeys(f.spec, f.datetime),
		xotag.KV{Key: KeyBytes, Value: strconv.FormatInt(f.bytes, 10)},
		xotag.KV{Key: KeyDurationMS, Value: strconv.FormatInt(f.dur.Milliseconds(), 10)},
		xotag.KV{Key: KeyCompleted, Value: f.completed.Format(time.RFC3339Nano)})
	steps := []func() error{
		func() error { return dst.SetNameLabel(ctx, ref, f.name) },
		func() error { return dst.AddTag(ctx, ref, TagDR) },
		func() error { return blockStart(ctx, dst, ref) },
		func() error { return leaveHA(ctx, dst, ref, f.ha) },
		func() error { return setKeys(ctx, dst, ref, kv) },
		func() error { return dst.AddToOtherConfig(ctx, ref, xotag.KeySR, f.sr) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Copy{}, fmt.Errorf("finish copy %s: %w", ref, err)
		}
	}
	rec, err := dst.VMRecord(ctx, ref)
	if err != nil {
		return Copy{}, fmt.Errorf("finish copy %s: %w", ref, err)
	}
	cp, ok := copyOf(ref, rec)
	if !ok || !cp.Standby() {
		return Copy{}, fmt.Errorf("finish copy %s: the pool did not keep its keys or blocked start", ref)
	}
	return cp, nil
}

// leaveHA clears the ha_restart_priority a copy inherited (ha, "" when
// none), as Xen Orchestra does: the standby pool's HA protects what its
// operator chose, and a failed-over copy is put back in HA on purpose (its
// TagHADisabled says its source was).
func leaveHA(ctx context.Context, c *xapi.Client, vm xapi.VMRef, ha string) error {
	if ha == "" {
		return nil
	}
	if err := c.SetHARestartPriority(ctx, vm, ""); err != nil {
		return err
	}
	return c.AddTag(ctx, vm, TagHADisabled)
}

// destroyDetached destroys vm even when ctx is cancelled (a shutdown must
// not leak a snapshot or a half copy), within a bounded time.
func destroyDetached(ctx context.Context, c *xapi.Client, vm xapi.VMRef, log *slog.Logger, what string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if err := c.DestroyVM(dctx, vm); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		log.Warn("could not destroy the "+what, "ref", string(vm), "err", err)
	}
}
