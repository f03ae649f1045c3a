package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/repoimage"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi"
)

// Pools hands out logged-in XAPI clients; *app.Pools is one.
type Pools interface {
	Names() []string
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Options are the handler's knobs; zero values mean the defaults in brackets.
type Options struct {
	Now           func() time.Time // [time.Now]
	Log           *slog.Logger     // [discard]
	ProgressEvery time.Duration    // [DefaultProgressEvery]
	HoldBack      int              // bytes withheld until verified [DefaultHoldBack]
	// Attempts is how many deliveries a retryable failure (remote or pool
	// unreachable) gets before the restore is reported failed [3].
	Attempts uint64
	// Repos opens the remotes' incremental repositories, for restore points
	// ("<remote>:xbr-repo/<vm>/<ts>") [none: such ids fail as not found].
	Repos Repos
}

// Handler restores one requested backup per event.
type Handler struct {
	pools    Pools
	remotes  restoreclient.Remotes
	pub      restoreclient.Publisher
	subjects events.Subjects
	opts     Options
	log      *slog.Logger
	names    namer // serialises the naming of restored VMs per pool
}

// New returns the restore handler. pub publishes the events a restore emits
// while it runs (started, progress); outcomes are returned to the bus.
func New(pools Pools, remotes restoreclient.Remotes, pub restoreclient.Publisher, s events.Subjects, o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	if o.Attempts == 0 {
		o.Attempts = 3
	}
	return &Handler{pools: pools, remotes: remotes, pub: pub, subjects: s, opts: o, log: o.Log}
}

func (h *Handler) now() time.Time { return h.opts.Now() }

// Handle restores the backup of an xbr.restore.requested event.
func (h *Handler) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	req, err := events.PayloadAs[events.RestoreRequested](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	id, err := catalog.ParseID(req.BackupID)
	if err != nil { // an id that could leave its remote: reject, and say so
		_ = h.publish(ctx, failedID(req), h.now(), h.failed(req, err))
		return nil, bus.Permanent(fmt.Errorf("restore %s: %w", req.RequestID, err))
	}
	done, err := h.restore(ctx, req, id, max(ev.Delivery.Attempt, 1))
	switch {
	case err == nil:
		h.log.Info("restore completed", "request", req.RequestID, "backup", req.BackupID,
			"vm_uuid", done.NewVMUUID, "bytes", done.Bytes, "duration_ms", done.DurationMS)
		return h.out(events.DeriveID("restore.completed", req.RequestID), done)
	case ctx.Err() != nil:
		return nil, err // shutting down: the import was aborted; redeliver
	case isRetryable(err) && ev.Delivery.Attempt < h.opts.Attempts:
		return nil, err
	}
	err = h.dropUnfinished(ctx, req, err)
	h.log.Warn("restore failed", "request", req.RequestID, "backup", req.BackupID, "err", err)
	return h.out(failedID(req), h.failed(req, err))
}

func failedID(req events.RestoreRequested) string {
	return events.DeriveID("restore.failed", req.RequestID)
}

func (h *Handler) failed(req events.RestoreRequested, err error) events.RestoreFailed {
	return events.RestoreFailed{RequestID: req.RequestID, BackupID: req.BackupID, Pool: req.Pool, Error: events.Reason(err)}
}

// job is one restore being done.
type job struct {
	req     events.RestoreRequested
	id      catalog.ID
	attempt uint64
	start   time.Time
	rm      remote.Remote
	meta    catalog.Metadata
	point   *repoimage.Point // a repository restore point (id.Repo); meta is then empty
	c       *xapi.Client
	srRef   xapi.SRRef
	sr      xapi.SR
}

// restore does the work; its errors are the reason a failed event gives.
func (h *Handler) restore(ctx context.Context, req events.RestoreRequested, id catalog.ID, attempt uint64) (events.RestoreCompleted, error) {
	j := &job{req: req, id: id, attempt: attempt, start: h.now()}
	var err error
	if j.c, j.srRef, j.sr, err = h.target(ctx, req); err != nil {
		return events.RestoreCompleted{}, err
	}
	// The VM of an earlier delivery first: once finished it needs nothing
	// of the backup, which may be gone since (retention) or out of reach.
	vm, found, err := findRestored(ctx, j.c, req.RequestID)
	if err != nil {
		return events.RestoreCompleted{}, retryable(err)
	}
	if found {
		if done, ok, err := h.again(ctx, j, vm); ok || err != nil {
			return done, err
		}
	}
	if id.Repo {
		j.point, err = h.openPoint(ctx, id, j.c.StallTimeout())
	} else {
		j.rm, j.meta, err = h.source(ctx, id, j.c.StallTimeout())
	}
	if err != nil {
		return events.RestoreCompleted{}, err
	}
	size, importer := j.meta.Size, h.importBackup
	if j.point != nil {
		size, importer = j.point.Size(), h.importPoint
	}
	if !found {
		if vm, size, err = importer(ctx, j); err != nil {
			return events.RestoreCompleted{}, err
		}
		if err = mark(ctx, j.c, vm, req.RequestID); err != nil {
			return events.RestoreCompleted{}, retryable(err)
		}
	}
	return h.complete(ctx, j, vm, size)
}

// source opens the backup's remote and reads its metadata, bounded by the
// stall timeout as the transfer's reads are (boundedRead).
func (h *Handler) source(ctx context.Context, id catalog.ID, stall time.Duration) (remote.Remote, catalog.Metadata, error) {
	if !slices.Contains(h.remotes.Names(), id.Remote) {
		return nil, catalog.Metadata{}, fmt.Errorf("backup %s: remote %q is not configured here", id, id.Remote)
	}
	rm, err := h.remotes.Get(ctx, id.Remote)
	if err != nil {
		return nil, catalog.Metadata{}, retryable(err)
	}
	meta, err := boundedRead(ctx, stall, "the backup's metadata", func(ctx context.Context) (catalog.Metadata, error) {
		return catalog.ReadMetadata(ctx, rm, id)
	})
	switch {
	case errors.Is(err, ErrReadStalled): // final, as a stalled transfer is
		return nil, catalog.Metadata{}, fmt.Errorf("backup %s: %w", id, err)
	case errors.Is(err, remote.ErrNotFound):
		return nil, catalog.Metadata{}, fmt.Errorf("backup %s does not exist: %w", id, err)
	case errors.Is(err, catalog.ErrInvalidMetadata):
		return nil, catalog.Metadata{}, fmt.Errorf("backup %s: %w", id, err)
	case err != nil:
		return nil, catalog.Metadata{}, retryable(fmt.Errorf("backup %s: %w", id, err))
	}
	return rm, meta, nil
}

// target logs in to the pool and finds the SR.
func (h *Handler) target(ctx context.Context, req events.RestoreRequested) (*xapi.Client, xapi.SRRef, xapi.SR, error) {
	if !slices.Contains(h.pools.Names(), req.Pool) {
		return nil, "", xapi.SR{}, fmt.Errorf("%w: pool %q is not configured here (known: %v)", errTarget, req.Pool, h.pools.Names())
	}
	c, err := h.pools.Client(ctx, req.Pool)
	if err != nil {
		return nil, "", xapi.SR{}, retryable(err)
	}
	ref, sr, err := resolveSR(ctx, c, req.SR)
	if err != nil && !errors.Is(err, errTarget) {
		err = retryable(err)
	}
	return c, ref, sr, err
}

// importBackup streams the verified backup into PUT /import; on any failure
// no VM is left (xapi.Client.Import guarantees it).
func (h *Handler) importBackup(ctx context.Context, j *job) (xapi.VMRef, int64, error) {
	var progress atomic.Int64
	b, err := openBackup(ctx, j.rm, j.id, j.meta, h.opts.HoldBack, j.c.StallTimeout(), &progress)
	if err != nil {
		if !errors.Is(err, catalog.ErrInvalidMetadata) && !errors.Is(err, remote.ErrNotFound) && !errors.Is(err, ErrReadStalled) {
			err = retryable(err) // a stall is final, as a stalled transfer is
		}
		return "", 0, fmt.Errorf("backup %s: %w", j.id, err)
	}
	defer b.Close()
	h.announce(ctx, j, b.size, b.verify)
	rep := h.startProgress(ctx, j.req.RequestID, j.attempt, b.size, &progress)
	vm, err := j.c.Import(ctx, b.body, b.size, xapi.ImportOptions{SR: j.srRef})
	rep.Stop()
	if err != nil {
		return "", 0, importFailure(ctx, j.id, b, err)
	}
	return vm, b.size, nil
}

func (h *Handler) announce(ctx context.Context, j *job, size int64, verify string) {
	started := events.RestoreStarted{RequestID: j.req.RequestID, BackupID: j.req.BackupID, Pool: j.req.Pool,
		SR: j.sr.UUID, VMUUID: j.id.VM, TotalBytes: size}
	id := events.DeriveID("restore.started", j.req.RequestID, fmt.Sprint(j.attempt))
	if err := h.publish(ctx, id, h.now(), started); err != nil {
		h.log.Warn("restore started event not published", "request", j.req.RequestID, "err", err)
	}
	h.log.Info("restore started", "request", j.req.RequestID, "backup", j.id.String(), "bytes", size,
		"verify", verify, "sr", j.sr.UUID)
}

// importFailure names the real cause: the backup's own fault when the
// verifier stopped the stream, XAPI's otherwise. When XAPI rejected the
// archive before the verifier reached the end, the rest of the backup is read
// to tell a corrupt backup from a pool problem.
func importFailure(ctx context.Context, id catalog.ID, b *backup, err error) error {
	verr := b.body.err
	if verr == nil && b.body.chk != nil && rejectedArchive(err) && ctx.Err() == nil {
		_, _ = io.Copy(io.Discard, b.body)
		if verr = b.body.err; verr != nil && errors.As(verr, new(*sourceError)) {
			verr = nil // cannot tell; XAPI's reason stands
		}
		if verr != nil {
			return fmt.Errorf("backup %s: %w (XAPI: %w); no VM was left", id, verr, err)
		}
	}
	switch {
	case verr == nil:
		return fmt.Errorf("backup %s: %w", id, err)
	case errors.Is(verr, ErrReadStalled): // as a pool that stalls: final
		return fmt.Errorf("backup %s: %w; the import was aborted and left no VM", id, verr)
	case errors.As(verr, new(*sourceError)):
		return retryable(fmt.Errorf("backup %s: %w; the import was aborted and left no VM", id, verr))
	}
	return fmt.Errorf("backup %s: %w; the import was aborted and left no VM", id, verr)
}

// rejectedArchive: XAPI failed the import because of the archive's content.
func rejectedArchive(err error) bool {
	var xe *xapi.Error
	return errors.As(err, &xe) && strings.HasPrefix(xe.Code, "IMPORT_ERROR")
}

// publish sends an event now (started, progress, or the failure of a
// rejected request, which has no follow-up to return).
func (h *Handler) publish(ctx context.Context, id string, at time.Time, p events.Payload) error {
	msg, err := h.subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: at}, p)
	if err != nil {
		return err
	}
	_, err = h.pub.Publish(ctx, msg.Subject, msg.Event)
	return err
}

func (h *Handler) out(id string, p events.Payload) ([]bus.Out, error) {
	msg, err := h.subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: h.now()}, p)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return []bus.Out{msg}, nil
}

// retryableError marks a failure a later delivery may not have (a remote or
// a pool unreachable, a VM not finished yet).
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

func retryable(err error) error { return &retryableError{err: err} }

func isRetryable(err error) bool { return errors.As(err, new(*retryableError)) }
