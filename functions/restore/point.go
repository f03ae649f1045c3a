package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/repoimage"
	"xbr/shared/xapi"
	"xbr/shared/xva"
)

// Repos opens a remote's incremental repository; *fn.Repos is one.
type Repos interface {
	Open(ctx context.Context, name string) (*repo.Repo, error)
}

// errImportEnded stops the XVA builder once the import has returned.
var errImportEnded = errors.New("the import ended")

// openPoint opens the repository restore point id names and checks that it
// can be rebuilt (its records describe its disks). Each read (the
// repository's config, the point's manifest) is bounded by stall as the
// import's stream is: a remote that answers nothing that long fails it with
// ErrReadStalled, final as for the import.
func (h *Handler) openPoint(ctx context.Context, id catalog.ID, stall time.Duration) (*repoimage.Point, error) {
	if !slices.Contains(h.remotes.Names(), id.Remote) || h.opts.Repos == nil {
		return nil, fmt.Errorf("backup %s: remote %q is not configured here", id, id.Remote)
	}
	name, _ := id.RepoPoint()
	p, err := repo.ParsePoint(name)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", id, err)
	}
	rp, err := boundedRead(ctx, stall, "the repository's config", func(ctx context.Context) (*repo.Repo, error) {
		return h.opts.Repos.Open(ctx, id.Remote)
	})
	switch {
	case errors.Is(err, fn.ErrNoRepository):
		return nil, fmt.Errorf("backup %s does not exist: %w", id, err)
	case errors.Is(err, repo.ErrWrongKey), errors.Is(err, ErrReadStalled):
		return nil, fmt.Errorf("backup %s: %w", id, err)
	case err != nil: // an unreachable remote may come back
		return nil, retryable(fmt.Errorf("backup %s: %w", id, err))
	}
	pt, err := boundedRead(ctx, stall, "the restore point's manifest", func(ctx context.Context) (*repoimage.Point, error) {
		return repoimage.Open(ctx, rp, p)
	})
	switch {
	case errors.Is(err, remote.ErrNotFound):
		return nil, fmt.Errorf("backup %s does not exist: %w", id, err)
	case errors.Is(err, repoimage.ErrRecords) || errors.Is(err, repo.ErrCorrupt) || errors.Is(err, ErrReadStalled):
		return nil, fmt.Errorf("backup %s: %w", id, err)
	case err != nil:
		return nil, retryable(fmt.Errorf("backup %s: %w", id, err))
	}
	return pt, nil
}

// importPoint streams an XVA built from the restore point's chunks into PUT
// /import. The builder verifies every chunk and each disk's SHA-256 before
// the archive can end, and the verifier withholds the tail until the builder
// has finished: a damaged point never reaches XAPI as a complete archive, the
// import is aborted, and xapi.Client.Import leaves no VM.
//
// The builder is silent only while it waits for the repository, so its
// output is read as a full backup's stream is (hashAhead): silent for the
// pool's stall timeout, the restore fails with ErrReadStalled; a stall or the
// end of ctx returns at once. The builder is never waited for: once the
// import has returned it is cancelled and left to end when its read of the
// repository returns (one that ignores cancellation holds only it). Its
// error, when it failed, is what the stream ended with.
func (h *Handler) importPoint(ctx context.Context, j *job) (xapi.VMRef, int64, error) {
	var progress atomic.Int64
	buildCtx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(j.point.WriteXVA(buildCtx, pw, xva.WriterOptions{ModTime: j.id.Time}))
	}()
	ahead := newHashAhead(buildCtx, cancel, pr, nil, j.c.StallTimeout())
	defer ahead.Close() // cancels the builder
	body := newVerifier(ahead, nil, -1, h.opts.HoldBack, &progress)
	total := j.point.ImportSize() // what the XVA carries: all-zero blocks are left out
	h.announce(ctx, j, total, "every chunk's id and each disk's sha256")
	rep := h.startProgress(ctx, j.req.RequestID, j.attempt, total, &progress)
	vm, err := j.c.Import(ctx, body, -1, xapi.ImportOptions{SR: j.srRef})
	rep.Stop()
	pr.CloseWithError(errImportEnded) // ends the read-ahead's read of a hung builder now
	if err != nil {
		return "", 0, pointFailure(j.id, builderError(body.err), err)
	}
	return vm, progress.Load(), nil
}

// builderError is the builder's failure (or the read-ahead's: a stall, the
// end of the context) that ended the verifier's stream; nil when the stream
// did not fail.
func builderError(verr error) error {
	if se := (*sourceError)(nil); errors.As(verr, &se) {
		return se.err
	}
	return verr
}

// pointFailure names the cause of a failed import of a restore point: the
// point's own damage or a repository silent for the stall timeout (final,
// as a pool that stalls), the repository unreachable (retryable), or XAPI's
// reason.
func pointFailure(id catalog.ID, berr, xerr error) error {
	switch {
	case berr == nil || errors.Is(berr, errImportEnded) || errors.Is(berr, context.Canceled):
		return fmt.Errorf("backup %s: %w", id, xerr)
	case errors.Is(berr, repo.ErrCorrupt), errors.Is(berr, repo.ErrDiskDigest), errors.Is(berr, remote.ErrNotFound),
		errors.Is(berr, ErrReadStalled):
		return fmt.Errorf("backup %s: %w; the import was aborted and left no VM", id, berr)
	}
	return retryable(fmt.Errorf("backup %s: read the restore point: %w; the import was aborted and left no VM", id, berr))
}
